"""`aicrc bundle`: the layout of a Helm bundle, byte-identical output, every shipped recipe bundled,
bundles read back from compiled files, several deployers side by side, and what the reference
system's own bundles carry."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import aicrc
from aicrc import diagnostics as diag
from aicrc.bundle import deployers
from aicrc.bundle.build import build_bundle
from aicrc.bundle.compiled_file import read_compiled
from aicrc.bundle.deployers.base import Deployer
from aicrc.bundle.files import EXECUTABLE, Bundle
from aicrc.bundle.recipe import Recipe, from_document, manifest_file_names
from aicrc.bundle.verify import TrustLevel, verify
from aicrc.cli import main
from tests.conftest import FLAGSHIP, ROOT
from tests.test_architecture import _lint as lint
from tests.test_cli import run_aicrc

RECIPES = sorted((ROOT / "recipes").glob("*.aicr"))
REFERENCE = ROOT / "tests" / "reference" / "aicr-v0.11.1" / "bundle"


def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder`: its bytes and permission bits, by relative path."""
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_the_flagship_bundle_has_a_folder_per_component_and_the_bundle_files(flagship: Recipe) -> None:
    bundle = build_bundle(flagship, ["helm"])
    expected = {"README.md", "deploy.sh", "undeploy.sh", "recipe.yaml", "sbom.cdx.json", "checksums.txt"}
    for component in flagship.components:
        expected.add(f"{component.name}/README.md")
        expected.add(f"{component.name}/values.yaml" if component.kind == "helm" else f"{component.name}/namespace.yaml")
        expected |= {f"{component.name}/manifests/{m.file_name}" for m in component.manifests}
    assert set(bundle) == expected
    assert {path for path, file in bundle.items() if file.mode == EXECUTABLE} == {"deploy.sh", "undeploy.sh"}
    # what the flagship carries: its two charts with manifests and its manifests-only component
    assert "gpu-operator/manifests/dcgm-exporter-metrics.yaml" in bundle
    assert "kubeflow-trainer/manifests/torch-distributed-runtime.yaml" in bundle
    assert "skyhook-customizations/manifests/skyhook-no-op.yaml" in bundle


def test_values_manifests_and_recipe_are_the_compiled_ones(library: aicrc.Library, flagship: Recipe) -> None:
    compilation = library.compile_file(FLAGSHIP)
    bundle = build_bundle(flagship, ["helm"])
    assert bundle["recipe.yaml"].content.decode() == compilation.render("yaml")  # what `aicrc compile` prints
    for component in compilation.document["components"]:
        if component["kind"] == "helm":
            assert yaml.safe_load(bundle[f"{component['name']}/values.yaml"].content) == component["values"]
        written = [bundle[f"{component['name']}/manifests/{name}"].content.decode() for name in manifest_file_names(component["manifests"])]
        assert written == [m["content"] for m in component["manifests"]]


def test_readmes_say_chart_version_namespace_needs_and_how_to_install(flagship: Recipe) -> None:
    bundle = build_bundle(flagship, ["helm"])
    gpu = bundle["gpu-operator/README.md"].content.decode()
    for fact in ("`gpu-operator`", "`v25.10.1`", "`https://helm.ngc.nvidia.com/nvidia`", "[nfd](../nfd/README.md)", "wave 2"):
        assert fact in gpu
    assert "helm upgrade --install gpu-operator gpu-operator \\\n    --repo https://helm.ngc.nvidia.com/nvidia --version v25.10.1" in gpu
    assert "kubectl apply --namespace gpu-operator -f manifests/dcgm-exporter-metrics.yaml" in gpu
    oci = bundle["nvsentinel/README.md"].content.decode()
    assert "helm upgrade --install nvsentinel oci://ghcr.io/nvidia/nvsentinel \\\n    --version v1.1.0" in oci
    assert "--repo" not in oci  # an OCI chart is installed by its full reference
    root = bundle["README.md"].content.decode()
    assert "```mermaid\nflowchart LR\n" in root
    assert "- wave 0: aws-ebs-csi-driver, aws-efa, cert-manager" in root
    steps = [line.split(" | ")[2] for line in root.splitlines() if line.startswith("| ") and line.split(" | ")[0][2:].isdigit()]
    assert steps == [f"[{c.name}]({c.name}/README.md)" for c in flagship.components]


def test_the_same_recipe_gives_byte_identical_bundles(tmp_path: Path) -> None:
    for seed, folder in (("0", "a"), ("12345", "b")):
        result = run_aicrc("bundle", str(FLAGSHIP), "-o", str(tmp_path / folder), env={"PYTHONHASHSEED": seed, "AICRC_NO_CACHE": "1"})
        assert result.returncode == 0, result.stderr
    assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / "c")]) == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b") == tree(tmp_path / "c")
    assert tree(tmp_path / "a")["deploy.sh"][1] == 0o755 and tree(tmp_path / "a")["README.md"][1] == 0o644


@pytest.mark.parametrize("recipe", RECIPES, ids=[path.stem for path in RECIPES])
def test_every_shipped_recipe_bundles_and_every_yaml_file_parses(recipe: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    assert main(["bundle", str(recipe), "-o", str(out), "-d", "helm"]) == 0
    yaml_files = sorted(out.rglob("*.yaml"))
    assert out / "recipe.yaml" in yaml_files and any(path.name == "values.yaml" for path in yaml_files)
    for path in yaml_files:
        documents = list(yaml.safe_load_all(path.read_text()))
        assert documents and all(isinstance(doc, dict) for doc in documents if doc is not None), path
    report = verify(out)
    assert report.reached == TrustLevel.CHECKSUMS and not report.problems


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed (.ci/run installs it with apt-get)")
@pytest.mark.parametrize("recipe", RECIPES, ids=[path.stem for path in RECIPES])
def test_generated_scripts_are_shellcheck_clean(recipe: Path, library: aicrc.Library) -> None:
    bundle = build_bundle(from_document(library.compile_file(recipe).document), ["helm"])
    for script in ("deploy.sh", "undeploy.sh"):
        result = subprocess.run(
            ["shellcheck", "--shell=bash", "--severity=style", "-"], input=bundle[script].content, capture_output=True, timeout=60
        )
        assert result.returncode == 0, f"{recipe.name} {script}:\n{result.stdout.decode()}"


@pytest.mark.parametrize("output_format", ["yaml", "json"])
def test_a_compiled_file_bundles_to_the_same_bytes(output_format: str, tmp_path: Path) -> None:
    compiled = tmp_path / f"compiled.{output_format}"
    assert main(["compile", str(FLAGSHIP), "--format", output_format, "-o", str(compiled)]) == 0
    assert main(["bundle", "--compiled", str(compiled), "-o", str(tmp_path / "from-file")]) == 0
    assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / "from-recipe")]) == 0
    assert tree(tmp_path / "from-file") == tree(tmp_path / "from-recipe")


def test_every_shipped_recipe_reads_back_from_its_compiled_file(library: aicrc.Library, tmp_path: Path) -> None:
    for recipe in RECIPES:
        compiled = tmp_path / f"{recipe.stem}.yaml"
        compiled.write_text(library.compile_file(recipe).render("yaml"))
        assert read_compiled(compiled).document == library.compile_file(recipe).document


def _failure(path: Path) -> diag.AicrcError:
    with pytest.raises(diag.AicrcError) as caught:
        read_compiled(path)
    return caught.value


def test_a_file_that_is_not_a_compiled_recipe_is_a_located_error(tmp_path: Path) -> None:
    reference = ROOT / "tests" / "reference" / "aicr-v0.11.1" / "recipe" / "gb200-eks-ubuntu-training-kubeflow.yaml"
    failure = _failure(reference)
    assert [d.code for d in failure.diagnostics] == ["E0803"]
    assert "is not a compiled recipe (kind: RecipeResult)" in failure.diagnostics[0].message
    assert failure.diagnostics[0].span is not None and failure.diagnostics[0].span.line == 1

    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: CompiledRecipe\nmetadata: [\n")
    assert _failure(broken).diagnostics[0].message.startswith("invalid YAML")
    broken_json = tmp_path / "broken.json"
    broken_json.write_text('{"kind": "CompiledRecipe",\n  "metadata": }')
    span = _failure(broken_json).diagnostics[0].span
    assert span is not None and (span.line, span.col) == (2, 15)


def test_a_compiled_file_edited_out_of_shape_is_a_located_error(library: aicrc.Library, tmp_path: Path) -> None:
    text = library.compile_file(FLAGSHIP).render("yaml")
    edited = tmp_path / "edited.yaml"
    edited.write_text(text.replace("  wave: 3\n", "  wave: '3'\n", 1))
    failure = _failure(edited)
    assert failure.diagnostics[0].code == "E0803"
    assert failure.diagnostics[0].message.endswith("wave: Input should be a valid integer")
    span = failure.diagnostics[0].span
    assert span is not None and text.splitlines()[span.line - 1] == "  wave: 3"
    assert "edited.yaml" in failure.render() and "^^^" in failure.render()

    # a dependency moved after what needs it: deploy.sh would install them in the wrong order
    document = library.compile_file(FLAGSHIP).document
    document["components"][-1]["needs"] = ["cert-manager", "no-such-component"]
    edited.write_text(yaml.safe_dump(document, sort_keys=False))
    messages = [d.message for d in _failure(edited).diagnostics]
    assert "component `nvsentinel` needs `no-such-component`, which is not in the recipe" in messages


def test_names_a_bundle_cannot_use_are_errors(library: aicrc.Library) -> None:
    document = json.loads(json.dumps(library.compile_file(FLAGSHIP).document))
    document["components"][0]["name"] = document["deploymentOrder"][0] = "AWS_EBS"
    document["components"][1]["namespace"] = "kube system"
    document["components"][2]["chart"]["version"] = "1.0 ; rm -rf /"
    document["metadata"]["name"] = "x\nrm -rf /"  # it stands in the scripts' comments
    document["metadata"]["compiler"] = "aicrc\nrm -rf /"
    with pytest.raises(diag.AicrcError) as caught:
        from_document(document)
    assert [d.code for d in caught.value.diagnostics] == ["E0803", "E0804", "E0804", "E0804", "E0804"]
    assert "`AWS_EBS` cannot name a Helm release" in caught.value.diagnostics[2].message


def test_manifest_file_names_are_safe_and_distinct() -> None:
    names = ["<stdlib>/m/a.yaml", "other/a.yaml", "x\\..\\evil name.yml", "../.hidden", "plain", "a.yaml"]
    assert manifest_file_names([{"name": name} for name in names]) == [
        "a.yaml",
        "a-2.yaml",
        "evil-name.yml",
        "hidden.yaml",
        "plain.yaml",
        "a-3.yaml",
    ]


@pytest.fixture
def second_deployer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A stand-in deployer beside helm, as argocd will be."""

    def render(recipe: Recipe) -> Bundle:
        bundle = Bundle()
        bundle.add("apps.txt", "\n".join(c.name for c in recipe.components))
        return bundle

    stand_in = Deployer("stand-in", render)
    real = deployers.load
    monkeypatch.setattr(deployers, "load", lambda name: stand_in if name == "stand-in" else real(name))
    yield


@pytest.mark.usefixtures("second_deployer")
def test_several_deployers_each_go_in_their_own_folder(flagship: Recipe, tmp_path: Path) -> None:
    from aicrc.bundle.writer import write_bundle

    bundle = build_bundle(flagship, ["helm", "stand-in", "helm"])
    assert {path.split("/")[0] for path in bundle} == {"helm", "stand-in", "checksums.txt"}
    assert {"helm/deploy.sh", "helm/recipe.yaml", "helm/checksums.txt", "stand-in/apps.txt", "stand-in/recipe.yaml"} <= set(bundle)
    write_bundle(bundle, str(tmp_path / "both"))
    for folder in ("both", "both/helm", "both/stand-in"):  # the whole verifies, and so does each part
        assert verify(tmp_path / folder).reached == TrustLevel.CHECKSUMS


def _manifests_declared_missing() -> set[str]:
    """Components whose manifests tests/reference/deviations.yaml says aicrc does not ship."""
    deviations = yaml.safe_load((ROOT / "tests" / "reference" / "deviations.yaml").read_text())
    return {entry["component"] for entry in deviations if entry.get("path") == "manifests"}


@pytest.mark.parametrize(
    ("leaf", "recipe"),
    [("gb200-eks-ubuntu-training-kubeflow", "blackwell-eks-training"), ("gb200-eks-ubuntu-inference-dynamo", "blackwell-eks-inference")],
)
def test_our_bundle_carries_what_the_reference_helm_bundle_carries(leaf: str, recipe: str, library: aicrc.Library) -> None:
    """The reference's bundle of the same leaf: every kind of file it has, ours has, for every
    component both install. Its skyhook-customizations is a local chart with empty values; ours is
    a manifests component (namespace.yaml instead)."""
    reference = REFERENCE / f"{leaf}-helm"
    compiled = from_document(library.compile_file(ROOT / "recipes" / f"{recipe}.aicr").document)
    ours = build_bundle(compiled, ["helm"])
    components = {c.name: c for c in compiled.components}
    not_shipped = _manifests_declared_missing()
    for path in sorted(p.relative_to(reference).as_posix() for p in reference.rglob("*") if p.is_file()):
        folder, _, name = path.partition("/")
        if not name:
            assert path in ours, path  # README.md, deploy.sh, undeploy.sh, recipe.yaml, checksums.txt
        elif name == "values.yaml" and components[folder].kind == "manifests":
            assert f"{folder}/namespace.yaml" in ours
        elif name.startswith("manifests/"):
            reference_count = len(list((reference / folder / "manifests").iterdir()))
            assert folder in not_shipped or len(components[folder].manifests) >= reference_count, path
        else:
            assert path in ours, path
    assert set(components) > {p.name for p in reference.iterdir() if p.is_dir()}  # and a few more (stdlib/README.md)


def test_command_line_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", str(FLAGSHIP)]) == 2
    assert "-o DIR is required" in capsys.readouterr().err
    assert main(["bundle", str(FLAGSHIP), "-o", str(tmp_path / "x"), "-d", "helmfile2"]) == 2
    assert "invalid choice: 'helmfile2'" in capsys.readouterr().err
    assert main(["bundle", "-o", str(tmp_path / "x")]) == 2
    assert "expected RECIPE, criteria flags, or --compiled FILE" in capsys.readouterr().err
    assert main(["bundle", str(FLAGSHIP), "--compiled", "x.yaml", "--set", "a:b=1", "-o", str(tmp_path / "x")]) == 2
    assert "--compiled FILE is compiled already: it takes no RECIPE, --set" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("command", ["bundle", "graph", "verify"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: aicrc" in out and "exit codes:" in out


def test_criteria_flags_and_set_work_as_in_compile(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    flags = ["--service", "eks", "--accelerator", "gb200", "--os", "ubuntu", "--intent", "training"]
    assert main(["bundle", *flags, "--set", "gpu-operator:driver.version=1.2.3", "-o", str(out)]) == 0
    assert yaml.safe_load((out / "gpu-operator" / "values.yaml").read_text())["driver"]["version"] == "1.2.3"


def test_compile_errors_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.aicr"
    bad.write_text("recipe r { accelerator = gb2000 }")
    assert main(["bundle", str(bad), "-o", str(tmp_path / "out")]) == 1
    assert "error[E0304]" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["bad.aicr"]


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layout")
    shutil.copytree(ROOT / "aicrc", root / "aicrc", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize("room", ["aicrc.cli", "aicrc.interop", "aicrc.lsp"])
def test_the_rooms_contract_keeps_bundles_below_cli_and_beside_interop_and_lsp(room: str, package_copy: Path) -> None:
    """aicrc.bundle may use the api, tools and the compiler, never the command line, the reference
    system's formats or the language server."""
    module = package_copy / "aicrc" / "bundle" / "build.py"
    original = module.read_text()
    module.write_text(f"{original}\nimport {room}  # a deliberate violation\n")
    try:
        result = lint(package_copy, "rooms")
    finally:
        module.write_text(original)
    assert result.returncode == 1 and "0 kept, 1 broken" in result.stdout, result.stdout
