"""`aicrc import` of the reference system's real data folder (AICR v0.11.1), used as the whole
library, against what the reference itself resolved (tests/reference/aicr-v0.11.1, PROVENANCE.md).

For each of the 20 recorded leaves, compiled with exactly its criteria: the components, their
charts, namespaces and deployment order, every Helm value type for type (`true` is not `1`), all
as `aicr query` gave them; and every manifest as the reference's bundle holds it. Two leaves'
bundles were recorded whole (bundle/); for the others the bundle is rendered here from the
reference's own recorded recipe and values, with the Go template renderer that the last tests
check against Go's own text/template (tests/fixtures/aicr/gotemplate/)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import time
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from aicrc.api import Library
from aicrc.cli import main
from aicrc.compiler.evaluate.values import leaf_paths, same
from aicrc.compiler.load import loader
from aicrc.interop import gotemplate
from aicrc.interop.aicr_manifests import bundle_values
from tests.conftest import ROOT
from tests.reference_compare import reference_bundle, registry, template_data

REFERENCE = ROOT / "tests" / "reference" / "aicr-v0.11.1"
ORACLE = ROOT / "tests" / "fixtures" / "aicr" / "gotemplate" / "cases.json"
RECORDED_BUNDLES = ("gb200-eks-ubuntu-training-kubeflow", "gb200-eks-ubuntu-inference-dynamo")


def _leaves() -> list[tuple[str, dict[str, str]]]:
    leaves = []
    for line in (REFERENCE / "leaves.tsv").read_text(encoding="utf-8").splitlines():
        name, flags = line.split("\t")
        words = flags.split()
        leaves.append((name, {words[i].removeprefix("--"): words[i + 1] for i in range(0, len(words), 2)}))
    return leaves


LEAVES = _leaves()


class Imported:
    def __init__(self, out: Path, seconds: float, stdout: str, stderr: str) -> None:
        self.out, self.seconds, self.stdout, self.stderr = out, seconds, stdout, stderr
        self.library = Library(loader.load_library((loader.SearchRoot("imported", out),)))
        self.documents: dict[str, dict[str, Any]] = {}

    def compile(self, leaf: str, criteria: dict[str, str]) -> dict[str, Any]:
        if leaf not in self.documents:
            self.documents[leaf] = self.library.compile(criteria).document
        return self.documents[leaf]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    out = tmp_path_factory.mktemp("reference") / "imported"
    stdout, stderr = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["import", str(REFERENCE / "data"), "-o", str(out)])
    seconds = time.perf_counter() - start
    assert code == 0, stderr.getvalue()
    return Imported(out, seconds, stdout.getvalue(), stderr.getvalue())


def _query(leaf: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((REFERENCE / "query" / f"{leaf}.json").read_text(encoding="utf-8"))
    return result


def _recipe(leaf: str) -> dict[str, Any]:
    result: dict[str, Any] = yaml.safe_load((REFERENCE / "recipe" / f"{leaf}.yaml").read_text(encoding="utf-8"))
    return result


def test_the_whole_folder_imports_and_checks_itself(imported: Imported) -> None:
    """Every overlay's own criteria compile to what the reference's rules give, manifests
    included; the one component without a namespace is said, with the registry field the
    reference does not read."""
    assert "compiled 36 overlay criteria both ways against the reference's merge rules: all match" in imported.stdout
    assert imported.stderr == (
        "note: `gke-nccl-tcpxo` has no namespace in the reference (the registry's `manifest.defaultNamespace: kube-system` "
        "is not a field it reads): it applies its objects without `-n`, so each goes to the namespace it names, else to "
        "the context's (`default`); imported with `namespace default`\n"
    )
    assert main(["fmt", "--check", str(imported.out)]) == 0


@pytest.mark.parametrize(("leaf", "criteria"), LEAVES, ids=[leaf for leaf, _ in LEAVES])
def test_leaf_compiles_to_the_reference_recipe(imported: Imported, leaf: str, criteria: dict[str, str]) -> None:
    ours = imported.compile(leaf, criteria)
    theirs = _query(leaf)
    components = {c["name"]: c for c in ours["components"]}
    assert sorted(components) == sorted(theirs["components"])
    assert ours["deploymentOrder"] == theirs["deploymentOrder"]
    for name, reference in theirs["components"].items():
        component = components[name]
        if reference["source"]:
            chart = {"repository": reference["source"], "name": reference["chart"], "version": reference["version"]}
            assert component["kind"] == "helm" and component["chart"] == chart, name
        else:  # manifests only: the reference names no chart
            assert component["kind"] == "manifests" and "chart" not in reference, name
        # (gke-nccl-tcpxo has none there: it is applied without a namespace, into `default`)
        assert component["namespace"] == reference.get("namespace", "default"), name
        expected, compiled = leaf_paths(reference.get("values", {})), leaf_paths(component["values"])
        assert sorted(compiled) == sorted(expected), name
        different = [path for path in expected if not same(expected[path], compiled[path])]
        assert different == [], (name, [(p, expected[p], compiled[p]) for p in different])


def _manifests(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(c["name"], PurePosixPath(m["name"]).name): m["content"] for c in document["components"] for m in c["manifests"]}


@pytest.mark.parametrize(("leaf", "criteria"), LEAVES, ids=[leaf for leaf, _ in LEAVES])
def test_leaf_manifests_are_thereference_bundle(imported: Imported, leaf: str, criteria: dict[str, str]) -> None:
    ours = _manifests(imported.compile(leaf, criteria))
    theirs = reference_bundle(leaf)
    assert sorted(ours) == sorted(theirs)
    assert [key for key in theirs if ours[key] != theirs[key]] == []


@pytest.mark.parametrize("leaf", RECORDED_BUNDLES)
def test_recorded_bundles_hold_exactly_these_manifests_and_values(imported: Imported, leaf: str) -> None:
    """The reference's own bundles: the same files byte for byte, and the values its bundler wrote
    are the recipe's plus the default tolerations, which is what the templates were given."""
    criteria = dict(LEAVES)[leaf]
    bundle = REFERENCE / "bundle" / f"{leaf}-helm"
    files = {(p.parent.parent.name, p.name): p.read_text(encoding="utf-8") for p in bundle.glob("*/manifests/*")}
    assert len(files) >= 3
    assert _manifests(imported.compile(leaf, criteria)) == files
    assert reference_bundle(leaf) == files
    configs = registry()
    for name, component in _query(leaf)["components"].items():
        written = [d for d in yaml.safe_load_all((bundle / name / "values.yaml").read_text(encoding="utf-8")) if d is not None]
        assert same(bundle_values(component.get("values", {}), configs.get(name)), written[0] if written else {}), name


def test_templates_render_per_leaf(imported: Imported) -> None:
    """The templated manifests where the reference renders them differently: Skyhook's tuning per
    intent, DCGM's metrics left out on kind (its values turn the ConfigMap off)."""
    documents = {leaf: imported.compile(leaf, criteria) for leaf, criteria in LEAVES}
    dcgm = {leaf for leaf, document in documents.items() if ("gpu-operator", "dcgm-exporter.yaml") in _manifests(document)}
    assert sorted(set(documents) - dcgm) == ["h100-kind-inference-dynamo", "h100-kind-training"]
    training = _manifests(documents["h100-eks-training"])[("skyhook-customizations", "tuning.yaml")]
    inference = _manifests(documents["h100-eks-ubuntu-inference"])[("skyhook-customizations", "tuning.yaml")]
    assert "intent: multiNodeTraining" in training and "intent: inference" in inference
    assert "{{" not in "".join(content for document in documents.values() for content in _manifests(document).values())
    layer = (imported.out / "layers" / "gpu-operator-dcgm-exporter.aicr").read_text(encoding="utf-8")
    assert "layer gpu-operator-dcgm-exporter: environment when service != kind {" in layer


def test_whole_library_through_the_command_line(
    imported: Imported, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AICRC_STDLIB", str(imported.out))
    leaf, criteria = LEAVES[0]
    flags = [part for dimension, value in criteria.items() for part in (f"--{dimension}", value)]
    assert main(["compile", *flags, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["deploymentOrder"] == _query(leaf)["deploymentOrder"]


def test_import_and_all_leaves_are_fast(imported: Imported) -> None:
    """CI budget: importing the whole folder (which compiles each overlay's criteria to check
    itself) and compiling the 20 leaves from a fresh load."""
    start = time.perf_counter()
    library = Library(loader.load_library((loader.SearchRoot("imported", imported.out),)))
    for _, criteria in LEAVES:
        library.compile(criteria)
    assert imported.seconds + (time.perf_counter() - start) < 20


# ---- the Go template renderer --------------------------------------------------------------------


def _oracle_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(ORACLE.read_text(encoding="utf-8"))
    return cases


ORACLE_CASES = _oracle_cases()


@pytest.mark.parametrize(
    "case", ORACLE_CASES, ids=[f"{n}-{PurePosixPath(c.get('file') or 'inline').stem}" for n, c in enumerate(ORACLE_CASES)]
)
def test_renderer_matches_go(case: dict[str, Any]) -> None:
    """Each case as Go 1.19's text/template and yaml.v3 rendered it (generate.py there)."""
    template = case.get("template") or (REFERENCE / "data" / case["file"]).read_text(encoding="utf-8")
    data = template_data(case["component"], case["values"], "ns", "chart", "1.2.3")
    if not case["ok"]:
        with pytest.raises(gotemplate.GoTemplateError):
            gotemplate.render(gotemplate.parse(template), data)
        return
    out = gotemplate.render(gotemplate.parse(template), data)
    if "sha256" in case:
        assert hashlib.sha256(out.encode()).hexdigest() == case["sha256"], out
    else:
        assert out == case["expected"]


@pytest.mark.parametrize(
    ("template", "message", "where"),
    [
        ("a\n  {{ range .Values }}x{{ end }}", "`range` is not supported", (2, 6)),
        ('{{ printf "%s" 1 }}', "function `printf` is not supported", (1, 4)),
        ("{{ .Values | len }}", "function `len` is not supported", (1, 14)),
        ("{{/* comment */}}", "`/*` is not supported", (1, 3)),
        ("{{ if true }}x{{ else if false }}y{{ end }}", "`else if false` is not supported", (1, 18)),
        ('{{ (index .Values "x").a }}', "a field of a parenthesized value", (1, 23)),
        ("{{ $x = 1 }}", "cannot read `=`", (1, 7)),
        ("{{ 1.5 }}", "cannot read `1.5`", (1, 4)),
        ('{{ index .Values "x" | toYaml }}', "not supported: a map key with a line break", (1, 24)),
    ],
)
def test_renderer_refuses_what_it_does_not_render(template: str, message: str, where: tuple[int, int]) -> None:
    data = template_data("x", {"k\nl": 1}, "ns", "c", "1")
    with pytest.raises(gotemplate.GoTemplateError) as failure:
        gotemplate.render(gotemplate.parse(template), data)
    assert message in failure.value.message and failure.value.unsupported
    assert (failure.value.line, failure.value.column) == where


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ if true }}x", "`if` without `end`"),
        ("x{{ end }}", "`end` without `if`"),
        ("{{ if true }}{{ else }}{{ else }}{{ end }}", "a second `else`"),
        ("{{ }}", "missing value"),
        ("{{ $nope }}", "undefined variable `$nope`"),
        ("{{ .Nope }}", "can't evaluate field Nope in type manifest.templateData"),
        ('{{ $v := index .Values "x" }}{{ $v.s.deeper }}', "can't evaluate field deeper in type string"),
        ('{{ $v := index .Values "x" }}{{ $v.n.deeper }}', "nil pointer evaluating interface {}.deeper"),
        ('{{ ne 1 "1" }}', "incompatible types for comparison"),
        ('{{ nindent "2" "x" }}', "expected (int, string)"),
        ("{{ toString }}", "`toString` takes 1 argument(s), given 0"),
        ("{{ (1 }}", "unclosed `(`"),
        ("{{ 1 2 }}", "only a function can take arguments"),
        ("x {{ 1", "`{{` without `}}`"),
    ],
)
def test_renderer_errors_are_located(template: str, message: str) -> None:
    data = template_data("x", {"s": "text", "n": None}, "ns", "c", "1")
    with pytest.raises(gotemplate.GoTemplateError) as failure:
        gotemplate.render(gotemplate.parse(template), data)
    assert message in failure.value.message and not failure.value.unsupported
    assert failure.value.line >= 1 and failure.value.column >= 1
