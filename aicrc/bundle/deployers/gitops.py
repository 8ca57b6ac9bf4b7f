"""What the GitOps deployers (argocd, flux) share: the Git repository the bundle is pushed to,
checked before any object points at it, and the names of the objects they add.

Their objects are read back by a controller in the cluster, from the repository. A bundle without
one would hold a placeholder that nothing can sync (the reference system writes `{{ .RepoURL }}`),
so a missing repository is refused (E0810), and so is one the deployer's controller cannot use
(E0811): a URL it does not accept, or a revision it cannot follow.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from aicrc import diagnostics as diag
from aicrc.bundle.deployers.base import Repository
from aicrc.bundle.deployers.common import MAX_NAME, slug
from aicrc.bundle.recipe import Recipe
from aicrc.records import Record

# scheme://[user@]host[/path], or scp's form (git@github.com:org/repo.git); one word, no control characters.
SCHEME_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*)://[^\s\x00-\x1f\x7f/]+(/[^\s\x00-\x1f\x7f]*)?")
SCP_URL = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s\x00-\x1f\x7f/][^\s\x00-\x1f\x7f]*")
# What git check-ref-format refuses in a revision: spaces, control characters and ~^:?*[\.
REVISION = re.compile(r"[^\s\x00-\x1f\x7f~^:?*\[\\]+")
ROOT_SUFFIX = ".bundle"


class Rules(Record):
    """What a deployer's controller accepts of a repository."""

    deployer: str
    reads: str  # what its objects read from the repository: says why it is needed
    schemes: tuple[str, ...]
    scp_form: bool  # whether `git@host:path` is accepted
    check_revision: Callable[[str], str | None]  # a complaint about a revision it cannot follow, or None


def require(repository: Repository | None, rules: Rules) -> Repository:
    """The repository, checked: E0810 when there is none, E0811 when the controller cannot use it."""
    if repository is None:
        raise diag.error(
            "E0810",
            f"the {rules.deployer} bundle needs the Git repository it will be pushed to: {rules.reads}",
            help="add --repo URL (the repository you will push the bundle to) and --revision (a branch, tag or commit; default HEAD)",
        )
    problems = diag.Collector()
    if not _url_accepted(repository.url, rules):
        forms = ", ".join(f"{scheme}://" for scheme in rules.schemes) + (", or user@host:path" if rules.scp_form else "")
        scp_hint = " (write git@host:org/repo as ssh://git@host/org/repo)" if SCP_URL.fullmatch(repository.url) else ""
        problems.add(
            "E0811",
            f"--repo {repository.url!r} is not a Git repository URL {rules.deployer} can read",
            help=f"give the repository's URL as {forms}{scp_hint}",
        )
    if not repository.revision:
        complaint: str | None = "is empty"
    elif not REVISION.fullmatch(repository.revision):
        complaint = "is not a Git revision: it holds a space, a control character or one of ~^:?*[\\"
    else:
        complaint = rules.check_revision(repository.revision)
    if complaint:
        problems.add(
            "E0811",
            f"--revision {repository.revision!r} {complaint}",
            help="give --revision BRANCH, the branch the bundle is pushed to (or refs/tags/TAG, or a commit SHA)",
        )
    problems.raise_if_any()
    return repository


def _url_accepted(url: str, rules: Rules) -> bool:
    match = SCHEME_URL.fullmatch(url)
    if match:
        return match["scheme"] in rules.schemes
    return rules.scp_form and SCP_URL.fullmatch(url) is not None


def root_name(recipe: Recipe) -> str:
    """The name of the object that syncs the whole bundle: the recipe's, with a suffix no component
    name can have (they hold no dots), so it never takes a component's name."""
    return slug(recipe.name, MAX_NAME - len(ROOT_SUFFIX)) + ROOT_SUFFIX
