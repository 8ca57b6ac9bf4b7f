"""Deployers: how a bundle installs its components. One module per deployer, each defining
`DEPLOYER`, a `base.Deployer`: its name and `render`, which turns a Recipe into the deployer's
files (`build.py` adds recipe.yaml and checksums.txt to every deployer's files). What deployers
write alike (values files, manifests, Markdown) is in `common.py`.

A new deployer (argocd, flux, helmfile) is a module here and its name in NAMES; the command line
offers NAMES without importing any deployer, so `aicrc --help` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aicrc.bundle.deployers.base import Deployer

NAMES = ("helm",)


def load(name: str) -> Deployer:
    from aicrc.bundle.deployers.base import Deployer

    deployer = importlib.import_module(f"{__name__}.{name}").DEPLOYER
    if not isinstance(deployer, Deployer) or deployer.name != name:
        raise TypeError(f"{__name__}.{name} defines no DEPLOYER named {name!r}")
    return deployer
