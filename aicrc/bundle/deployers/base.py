"""What a deployer is: a name, and how it turns a compiled recipe into files.

Two kinds: a `Deployer` writes files that install from where they lie (helm, helmfile); a
`GitOpsDeployer` writes objects that a controller in the cluster reads back from the Git repository
the bundle is pushed to (argocd, flux), so it is given that `Repository` too, or None when nobody
named one (it then refuses with E0810 rather than write a placeholder).
"""

from __future__ import annotations

from collections.abc import Callable

from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Recipe
from aicrc.records import Record

DEFAULT_REVISION = "HEAD"


class Repository(Record):
    """The Git repository a bundle is pushed to, and where the bundle lies in it."""

    url: str
    revision: str = DEFAULT_REVISION
    folder: str = ""  # the bundle's folder in the repository: "" for its root

    def path(self, relative: str) -> str:
        """A path of the bundle as the repository names it."""
        return f"{self.folder}/{relative}" if self.folder else relative

    def within(self, folder: str) -> Repository:
        """The same repository, for a bundle written into `folder` of this one."""
        return Repository(self.url, self.revision, self.path(folder))


class Deployer(Record):
    name: str
    render: Callable[[Recipe], Bundle]


class GitOpsDeployer(Record):
    name: str
    render: Callable[[Recipe, Repository | None], Bundle]
