"""Comparing what aicrc compiles for a leaf with what the reference system (AICR v0.11.1) resolved
for it (tests/reference/aicr-v0.11.1/), as a list of differences that deviations.yaml declares.

Every difference is named by (component, path), the form deviations.yaml uses:
- a component the reference has and aicrc lacks, or whose chart differs: (COMPONENT, "");
- a Helm value: (COMPONENT, "dotted.value.path"), type-strict (`true` is not `1`; lists and empty
  maps are leaves);
- a cluster constraint: ("constraints", NAME);
- a validation check: ("checks", "PHASE.CHECK"), and a check's constraint: ("checks", "PHASE.constraints.NAME").
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from aicrc.compiler.evaluate.values import leaf_paths, same
from aicrc.compiler.syntax.ast import format_path

REFERENCE = Path(__file__).resolve().parent / "reference" / "aicr-v0.11.1"
DEVIATIONS = Path(__file__).resolve().parent / "reference" / "deviations.yaml"


@dataclass(frozen=True)
class Difference:
    leaf: str
    component: str
    path: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.component}.{self.path}" if self.path else self.component
        return f"{self.leaf}: {where}: {self.detail}"


@dataclass(frozen=True)
class Deviation:
    component: str
    path: str
    leaves: str
    reason: str
    source: str

    def covers(self, difference: Difference) -> bool:
        if self.component != difference.component or not fnmatch.fnmatchcase(difference.leaf, self.leaves):
            return False
        return self.path == "" or difference.path == self.path or difference.path.startswith(self.path + ".")


def leaves() -> dict[str, dict[str, str]]:
    """Leaf name -> its criteria, every dimension it does not name `any` (as the reference reads it)."""
    found = {}
    for line in (REFERENCE / "leaves.tsv").read_text().splitlines():
        name, flags = line.split("\t")
        words = flags.split()
        criteria = {"service": "any", "accelerator": "any", "os": "any", "intent": "any", "platform": "any"}
        criteria.update({flag.removeprefix("--"): value for flag, value in zip(words[::2], words[1::2], strict=True)})
        found[name] = criteria
    return found


def read_deviations() -> list[Deviation]:
    entries = yaml.safe_load(DEVIATIONS.read_text()) or []
    return [Deviation(e["component"], e["path"], e["leaves"], e["reason"], e["source"]) for e in entries]


def compare(leaf: str, compiled: dict[str, Any]) -> list[Difference]:
    recipe = yaml.safe_load((REFERENCE / "recipe" / f"{leaf}.yaml").read_text())
    query = json.loads((REFERENCE / "query" / f"{leaf}.json").read_text())
    differences: list[Difference] = []

    def differ(component: str, path: str, detail: str) -> None:
        differences.append(Difference(leaf, component, path, detail))

    ours = {c["name"]: c for c in compiled["components"]}
    theirs_values = {name: c.get("values") or {} for name, c in query["components"].items()}
    for name in sorted(ours.keys() - {ref["name"] for ref in recipe["componentRefs"]}):
        differ(name, "", "aicrc installs it; the reference does not")
    for ref in recipe["componentRefs"]:
        name = ref["name"]
        mine = ours.get(name)
        if mine is None:
            differ(name, "", "the reference installs it; aicrc does not")
            continue
        chart = mine.get("chart") or {}
        for field, ours_value, theirs in (
            ("chart", chart.get("name", ""), ref.get("chart", "")),
            ("source", chart.get("repository", ""), ref.get("source", "")),
            ("version", chart.get("version", ""), ref.get("version", "")),
        ):
            if ours_value != theirs:
                differ(name, "", f"{field}: aicrc {ours_value!r}, reference {theirs!r}")
        mine_leaves = leaf_paths(mine["values"])
        theirs_leaves = leaf_paths(theirs_values.get(name, {}))
        for path in sorted(mine_leaves.keys() | theirs_leaves.keys()):
            dotted = format_path(path)
            if path not in mine_leaves:
                differ(name, dotted, f"aicrc has no value; reference {json.dumps(theirs_leaves[path])}")
            elif path not in theirs_leaves:
                differ(name, dotted, f"aicrc {json.dumps(mine_leaves[path])}; the reference has no value")
            elif not same(mine_leaves[path], theirs_leaves[path]):
                differ(name, dotted, f"aicrc {json.dumps(mine_leaves[path])}; reference {json.dumps(theirs_leaves[path])}")

    mine_constraints = {c["name"]: _constraint_text(c) for c in compiled["constraints"]}
    for constraint in recipe.get("constraints", []):
        name, value = constraint["name"], str(constraint["value"])
        if mine_constraints.get(name) != value:
            differ("constraints", name, f"aicrc {mine_constraints.get(name)!r}; reference {value!r}")

    for phase, body in (recipe.get("validation") or {}).items():
        mine_checks = set(compiled["checks"].get(phase, []))
        for check in body.get("checks", []):
            if check not in mine_checks:
                differ("checks", f"{phase}.{check}", "the reference runs it; aicrc does not list it")
        mine_phase_constraints = {c["name"]: _constraint_text(c) for c in compiled["checkConstraints"].get(phase, [])}
        for constraint in body.get("constraints") or []:
            name, value = constraint["name"], str(constraint["value"])
            if mine_phase_constraints.get(name) != value:
                differ("checks", f"{phase}.constraints.{name}", f"aicrc {mine_phase_constraints.get(name)!r}; reference {value!r}")
    return differences


def _constraint_text(constraint: dict[str, Any]) -> str:
    value = constraint["value"]
    text = value if isinstance(value, str) else json.dumps(value)
    return text if constraint["operator"] == "==" else f"{constraint['operator']} {text}"


# ---- manifests -------------------------------------------------------------------------------------


def registry() -> dict[str, Any]:
    """The reference's component registry, by name (its node-scheduling paths shape bundle values)."""
    from aicrc.interop.aicr_model import Registry

    parsed = Registry.model_validate(yaml.safe_load((REFERENCE / "data" / "registry.yaml").read_text(encoding="utf-8")))
    return {config.name: config for config in parsed.components}


def template_data(component: str, values: Any, namespace: str, chart: str, version: str) -> Any:
    """What the reference's bundler passes a manifest template: `.Values`, `.Release`, `.Chart`."""
    from aicrc.interop import gotemplate

    return gotemplate.Struct(
        "manifest.templateData",
        {
            "Values": {component: values if values is not None else {}},
            "Release": gotemplate.Struct("manifest.releaseData", {"Namespace": namespace, "Service": "Helm"}),
            "Chart": gotemplate.Struct("manifest.chartData", {"Name": chart, "Version": version.removeprefix("v") or "0.1.0"}),
        },
    )


def reference_bundle(leaf: str) -> dict[tuple[str, str], str]:
    """(component, file name) -> content: each manifest of the reference's recorded recipe for
    `leaf`, rendered from its recorded values as its bundler renders them (a Go template; no bundle
    options), as `aicrc import` renders them (aicrc/interop/aicr_manifests.py). A component the
    recipe disables, or a rendering with no objects, is not in the bundle."""
    from aicrc.interop import gotemplate
    from aicrc.interop.aicr_manifests import bundle_values

    configs = registry()
    values = json.loads((REFERENCE / "query" / f"{leaf}.json").read_text(encoding="utf-8"))["components"]
    recipe = yaml.safe_load((REFERENCE / "recipe" / f"{leaf}.yaml").read_text(encoding="utf-8"))
    manifests: dict[tuple[str, str], str] = {}
    for ref in recipe["componentRefs"]:
        if (ref.get("overrides") or {}).get("enabled") is False:
            continue  # not deployed
        name = ref["name"]
        scheduled = bundle_values(values[name].get("values", {}), configs.get(name))
        data = template_data(name, scheduled, ref.get("namespace", ""), ref.get("chart") or name, ref.get("version", ""))
        for file in sorted(ref.get("manifestFiles", ())):
            rendered = gotemplate.render(gotemplate.parse((REFERENCE / "data" / file).read_text(encoding="utf-8")), data)
            if any(line.strip() and not line.strip().startswith("#") and line.strip() != "---" for line in rendered.split("\n")):
                manifests[(name, PurePosixPath(file).name)] = rendered
    return manifests


def reference_manifests(leaf: str) -> dict[str, list[dict[str, Any]]]:
    """Component -> the Kubernetes objects of its manifests in the reference's bundle for `leaf`."""
    found: dict[str, list[dict[str, Any]]] = {}
    for (component, _), text in reference_bundle(leaf).items():
        found.setdefault(component, []).extend(d for d in yaml.safe_load_all(text) if d)
    return found


def compare_manifests(leaf: str, compiled: dict[str, Any]) -> list[Difference]:
    """The objects of each component's manifests, by kind and name: (COMPONENT, "manifests.KIND/NAME")
    for an object one side lacks, and "manifests.KIND/NAME.dotted.path" for a field that differs."""
    theirs = {name: _objects(objects) for name, objects in reference_manifests(leaf).items()}
    ours = {c["name"]: _objects(d for m in c["manifests"] for d in yaml.safe_load_all(m["content"]) if d) for c in compiled["components"]}
    differences: list[Difference] = []
    for component in sorted(theirs.keys() | {name for name, objects in ours.items() if objects and name in theirs}):
        mine, reference = ours.get(component, {}), theirs.get(component, {})
        for key in sorted(mine.keys() | reference.keys()):
            where = f"manifests.{key}"
            if key not in mine:
                differences.append(Difference(leaf, component, where, "the reference's bundle has this object; aicrc's has not"))
            elif key not in reference:
                differences.append(Difference(leaf, component, where, "aicrc's bundle has this object; the reference's has not"))
            else:
                a, b = leaf_paths(mine[key]), leaf_paths(reference[key])
                for path in sorted(a.keys() | b.keys()):
                    if path not in a or path not in b or not same(a[path], b[path]):
                        detail = f"aicrc {json.dumps(a.get(path))}; reference {json.dumps(b.get(path))}"
                        differences.append(Difference(leaf, component, f"{where}.{format_path(path)}", detail[:300]))
    return differences


def _objects(documents: Any) -> dict[str, dict[str, Any]]:
    return {f"{d.get('kind')}/{(d.get('metadata') or {}).get('name')}": d for d in documents if isinstance(d, dict)}
