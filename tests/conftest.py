from __future__ import annotations

import os
from pathlib import Path

import pytest

import aicrc
from aicrc.bundle.recipe import Recipe, from_document

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
FLAGSHIP = ROOT / "recipes" / "blackwell-eks-training.aicr"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read or write the user's cache; one cache per run still exercises it."""
    os.environ["AICRC_CACHE_DIR"] = str(tmp_path_factory.mktemp("aicrc-cache"))
    os.environ.pop("AICRC_PATH", None)
    os.environ.pop("AICRC_STDLIB", None)
    os.environ.pop("AICRC_NO_CACHE", None)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A test's own empty cache folder, with nothing in the environment that changes what a cached
    compile prints (NO_COLOR) or adds lines of its own (AICRC_DEBUG)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("AICRC_CACHE_DIR", str(folder))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("AICRC_DEBUG", raising=False)
    return folder


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """The one switch that rewrites goldens: syrupy's own `--snapshot-update`."""
    return bool(request.config.getoption("update_snapshots"))


@pytest.fixture(scope="session")
def library(_private_cache: None) -> aicrc.Library:
    """The standard library, loaded once, for the tests that only compile with it."""
    return aicrc.load_library(use_env=False)


@pytest.fixture(scope="session")
def flagship(library: aicrc.Library) -> Recipe:
    """The flagship recipe as the bundle package reads a compiled recipe."""
    return from_document(library.compile_file(FLAGSHIP).document)


@pytest.fixture
def no_ambient_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $KUBECONFIG, no ~/.kube/config, not in a pod: the cluster only where a test names one."""
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "NODE_NAME", "KUBERNETES_NODE_NAME", "HOSTNAME"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home
