"""`--repo URL` and `--revision`: the Git repository a GitOps bundle (argocd, flux) is pushed to.
Refused when a deployer needs it and it is missing (E0810) or unusable (E0811), as usage errors
(exit 2, nothing written); refused as a usage error where no chosen deployer reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import aicrc
from aicrc import diagnostics as diag
from aicrc.bundle.build import build_bundle
from aicrc.bundle.deployers.base import Repository
from aicrc.bundle.recipe import from_document
from aicrc.cli import main
from tests.conftest import ROOT

FLAGSHIP = str(ROOT / "recipes" / "blackwell-eks-training.aicr")
URL = "https://git.example.com/platform/gpu-stack.git"


@pytest.mark.parametrize("deployer", ["argocd", "flux"])
def test_a_gitops_bundle_without_a_repository_is_refused(deployer: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bundle"
    assert main(["bundle", FLAGSHIP, "-d", deployer, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"error[E0810]: the {deployer} bundle needs the Git repository it will be pushed to" in err
    assert "help: add --repo URL" in err and "{{" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-d", "argocd", "--repo", "not a url"], "--repo 'not a url' is not a Git repository URL argocd can read"),
        (["-d", "argocd", "--repo", "ftp://host/repo.git"], "--repo 'ftp://host/repo.git' is not a Git repository URL argocd"),
        (["-d", "argocd", "--repo", URL, "--revision", "main\n"], "--revision 'main\\n' is not a Git revision"),
        (["-d", "argocd", "--repo", URL, "--revision", ""], "--revision '' is empty"),
        (["-d", "flux", "--repo", URL], "--revision 'HEAD' names the default branch, which Flux cannot follow"),
    ],
)
def test_a_repository_the_deployer_cannot_use_is_refused(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", FLAGSHIP, *arguments, "-o", str(tmp_path / "bundle")]) == 2
    assert f"error[E0811]: {message}" in capsys.readouterr().err
    assert not (tmp_path / "bundle").exists()


@pytest.mark.parametrize("flags", [["--repo", URL], ["--revision", "main"]])
def test_repository_flags_without_a_gitops_deployer_are_a_usage_error(
    flags: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", FLAGSHIP, "-d", "helm", "-d", "helmfile", *flags, "-o", str(tmp_path / "b")]) == 2
    assert f"{flags[0]}: only the argocd and flux deployers read the bundle from a Git repository" in capsys.readouterr().err


def _applications(folder: Path) -> dict[str, Any]:
    return {path.stem: yaml.safe_load(path.read_text()) for path in (folder / "applications").glob("*.yaml")}


def test_argo_cd_follows_head_by_default_and_takes_scp_urls(tmp_path: Path) -> None:
    assert main(["bundle", FLAGSHIP, "-d", "argocd", "--repo", URL, "-o", str(tmp_path / "a")]) == 0
    values = _applications(tmp_path / "a")["gpu-operator"]["spec"]["sources"][1]
    assert values == {"repoURL": URL, "targetRevision": "HEAD", "ref": "values"}
    scp = "git@github.com:acme/gpu-stack.git"
    assert main(["bundle", FLAGSHIP, "-d", "argocd", "--repo", scp, "--revision", "v2", "-o", str(tmp_path / "b")]) == 0
    manifests = _applications(tmp_path / "b")["gpu-operator.manifests"]["spec"]["source"]
    assert (manifests["repoURL"], manifests["targetRevision"]) == (scp, "v2")


def test_every_deployer_side_by_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "all"
    deployers = ["-d", "helm", "-d", "argocd", "-d", "flux", "-d", "helmfile"]
    assert main(["bundle", FLAGSHIP, *deployers, "--repo", URL, "--revision", "main", "-o", str(out)]) == 0
    assert "(helm, argocd, flux, helmfile)" in capsys.readouterr().out
    assert sorted(path.name for path in out.iterdir()) == ["argocd", "checksums.txt", "flux", "helm", "helmfile"]
    for folder in ("", "argocd", "flux", "helm", "helmfile"):
        assert main(["verify", str(out / folder)]) == 0
    sync = list(yaml.safe_load_all((out / "flux" / "sync.yaml").read_text()))
    assert sync[1]["spec"]["path"] == "./flux/flux"  # the flux bundle's folder flux/, in the repository's folder flux/
    release, manifests = yaml.safe_load_all((out / "flux" / "flux" / "gpu-operator.yaml").read_text())
    assert (release["spec"]["path"], manifests["spec"]["path"]) == ("./flux/gpu-operator/release", "./flux/gpu-operator/manifests")
    assert (out / "flux" / "gpu-operator" / "release" / "helmrelease.yaml").is_file()


@pytest.mark.parametrize(("deployer", "folder"), [("argocd", "applications"), ("flux", "flux")])
def test_a_component_named_like_the_deployers_own_folder_is_refused(deployer: str, folder: str) -> None:
    document = json.loads(json.dumps(aicrc.load_library(use_env=False).compile_file(FLAGSHIP).document))
    position = document["deploymentOrder"].index("nvsentinel")  # needed by no component
    document["deploymentOrder"][position] = document["components"][position]["name"] = folder
    recipe = from_document(document)
    with pytest.raises(diag.AicrcError) as caught:
        build_bundle(recipe, [deployer], Repository(URL, "main"))
    (problem,) = caught.value.diagnostics
    assert problem.code == "E0804" and f"component `{folder}` takes the name of the {deployer} bundle's own folder" in problem.message
    assert build_bundle(recipe, ["helm"])  # other deployers have no such folder


def test_help_lists_the_repository_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--repo URL" in out and "--revision REV" in out and "{helm,argocd,flux,helmfile}" in out


def test_a_compiled_file_gives_the_same_bundles_with_a_repository(tmp_path: Path) -> None:
    from tests.test_bundle import tree

    compiled = tmp_path / "compiled.yaml"
    assert main(["compile", FLAGSHIP, "-o", str(compiled)]) == 0
    options = ["-d", "argocd", "-d", "flux", "-d", "helmfile", "--repo", "ssh://git@git.example.com/gpu.git", "--revision", "refs/tags/v1"]
    assert main(["bundle", "--compiled", str(compiled), *options, "-o", str(tmp_path / "from-file")]) == 0
    assert main(["bundle", FLAGSHIP, *options, "-o", str(tmp_path / "from-recipe")]) == 0
    assert tree(tmp_path / "from-file") == tree(tmp_path / "from-recipe")
