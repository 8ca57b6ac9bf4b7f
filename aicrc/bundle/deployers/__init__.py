"""Deployers: how a bundle installs its components. One module per deployer, each defining
`DEPLOYER`, a `base.Deployer` (or a `base.GitOpsDeployer`, given the Git repository the bundle is
pushed to): its name and `render`, which turns a Recipe into the deployer's files (`build.py` adds
recipe.yaml and checksums.txt to every deployer's files). What deployers write alike (values files,
manifests, Markdown, repository names) is in `common.py`; what the GitOps ones share, in `gitops.py`.

A new deployer is a module here and its name in NAMES; the command line offers NAMES without
importing any deployer, so `aicrc --help` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aicrc.bundle.deployers.base import Deployer, GitOpsDeployer

NAMES = ("helm", "argocd", "flux", "helmfile")


def load(name: str) -> Deployer | GitOpsDeployer:
    from aicrc.bundle.deployers.base import Deployer, GitOpsDeployer

    deployer = importlib.import_module(f"{__name__}.{name}").DEPLOYER
    if not isinstance(deployer, Deployer | GitOpsDeployer) or deployer.name != name:
        raise TypeError(f"{__name__}.{name} defines no DEPLOYER named {name!r}")
    return deployer
