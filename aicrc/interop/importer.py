"""`aicrc import`: the reference system's overlays (RecipeMetadata YAML) as `.aicr` files.

    overlays + values files + registry  --read-->  AicrData  --translate-->  .aicr texts
        --compile them, compare with the reference's rules (aicr_merge)-->  report  --write-->  OUT

Each overlay becomes one layer with the same criteria; each component one component, its values
the conventional `components/NAME/values.yaml`, its chart, version and namespace those of the
reference or the registry's Helm defaults (a component with neither has no namespace there and is
applied without one, so aicrc's is `default`); an overlay's `valuesFile` and `overrides` become the
layer's values, its constraints `require`, its checks `check`. Manifests are rendered as the
reference's bundler renders them (Go templates, see `aicr_manifests`) and attached where each
rendering applies. With `overlays/base.yaml` among the input the result is a whole library
(dimensions included; compile against it with `AICRC_STDLIB=OUT`); without, an overlay on ours
(`--overlay OUT`).

The two systems order layers alike (how many dimensions a layer pins), but merge values
differently where the reference loses data: it merges `overrides` shallowly and keeps only the
last `valuesFile` of a chain. So after translating, the importer compiles every overlay's own
criteria both ways and reports each value, chart, namespace or manifest that differs. Nothing is
written unless every input reads and the translation compiles.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.values import leaf_paths, same
from aicrc.compiler.syntax.ast import format_path
from aicrc.interop import aicr_manifests, aicr_merge
from aicrc.interop.aicr_data import NAME, AicrData, read_data, values_file, where
from aicrc.interop.aicr_model import ComponentRef, RecipeMetadata
from aicrc.resources import stdlib_dir
from aicrc.source import SourceFile
from aicrc.vocabulary import CHECK_PHASES

DEFAULT_NAMESPACE = "default"
_OPERATORS = (">=", "<=", "!=", "==", ">", "<")


@dataclass
class Outcome:
    written: list[str]
    differences: list[str]
    checked: int  # criteria compiled both ways
    standalone: bool
    notes: list[str]  # what the reference does that a reader may not expect


# ---- translating ---------------------------------------------------------------------------------


@dataclass
class _Component:
    name: str
    chart: str | None
    source: str | None
    version: str | None
    namespace: str
    defined_in: str  # the overlay whose componentRef first defined it
    namespace_unset: bool  # neither the reference nor the registry's Helm defaults give one


def translate(data: AicrData, library_components: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Relative output path -> text (before formatting), and notes. `library_components` are the
    ones the library the output overlays already defines (empty for a whole library)."""
    problems = diag.Collector()
    ordered = sorted(
        data.overlays.values(),
        key=lambda o: (o.metadata.name != "base", len(o.spec.criteria.named()) if o.spec.criteria else 0, o.metadata.name),
    )
    components: dict[str, _Component] = {}
    for overlay in ordered:
        for index, ref in enumerate(overlay.spec.componentRefs or ()):
            known = components.get(ref.name)
            if known is None:
                components[ref.name] = _component(data, ref, overlay.metadata.name)
                continue
            for attribute in ("version", "source", "chart", "namespace"):
                value = getattr(ref, attribute)
                if value and value != getattr(known, attribute):
                    problems.add(
                        "E0704",
                        f"overlay `{overlay.metadata.name}` changes the {attribute} of `{ref.name}` to {value!r}",
                        where(data, overlay.metadata.name, "componentRefs", index, attribute),
                        notes=(f"`{known.defined_in}` gave {getattr(known, attribute)!r}",),
                        help="aicrc pins one chart per component: declare the other version as a component of its own",
                    )
    problems.raise_if_any(data.sources)
    placements = aicr_manifests.plan(data) if data.standalone else aicr_manifests.verbatim(data)
    files: dict[str, str] = {}
    for component in components.values():
        if component.name not in library_components:
            files[f"components/{component.name}.aicr"] = _component_text(data, component, placements)
    for overlay in ordered:
        files[f"layers/{overlay.metadata.name}.aicr"] = _layer_text(data, overlay, components, placements, library_components)
    for placement in placements:
        files[placement.target] = placement.content
        if placement.layer is not None:
            files[f"layers/{placement.layer}.aicr"] = _manifest_layer_text(placement)
    if data.standalone:
        files["dimensions.aicr"] = _dimensions(data)
    return files, [_namespace_note(data, c) for c in components.values() if c.namespace_unset and c.name not in library_components]


def _namespace_note(data: AicrData, component: _Component) -> str:
    config = data.registry.get(component.name)
    unread = config.manifest.defaultNamespace if config is not None and config.manifest is not None else None
    ignored = f" (the registry's `manifest.defaultNamespace: {unread}` is not a field it reads)" if unread else ""
    return (
        f"`{component.name}` has no namespace in the reference{ignored}: it applies its objects without `-n`, so each "
        f"goes to the namespace it names, else to the context's (`{DEFAULT_NAMESPACE}`); imported with `namespace {DEFAULT_NAMESPACE}`"
    )


def _component(data: AicrData, ref: ComponentRef, overlay: str) -> _Component:
    helm = data.registry[ref.name].helm if ref.name in data.registry else None
    chart = ref.chart or (helm.defaultChart.rsplit("/", 1)[-1] if helm and helm.defaultChart else None)
    source = ref.source or (helm.defaultRepository if helm else None)
    version = ref.version or (helm.defaultVersion if helm else None)
    # Without one, the reference leaves the namespace empty and applies the component with no
    # `-n`: into the namespace each object names, else the kubeconfig context's, `default`
    namespace = ref.namespace or (helm.defaultNamespace if helm else None)
    return _Component(ref.name, chart, source or None, version, namespace or DEFAULT_NAMESPACE, overlay, namespace is None)


def _component_text(data: AicrData, component: _Component, placements: Sequence[aicr_manifests.Placement]) -> str:
    lines = [
        f"# imported from the reference's data: {data.files.get(component.defined_in, component.defined_in)}",
        f"component {component.name} {{",
    ]
    if component.source:
        lines.append(
            f"    chart {component.chart or component.name} from {_string(component.source)} version {_string(component.version or '')}"
        )
    else:
        lines.append("    kind manifests")
    lines.append(f"    namespace {component.namespace}")
    base = data.overlays.get("base")
    base_ref = next((r for r in base.spec.componentRefs or () if r.name == component.name), None) if base is not None else None
    if base_ref is not None and base_ref.dependencyRefs:
        lines.append(f"    needs {', '.join(base_ref.dependencyRefs)}")
    for placement in placements:
        if placement.component == component.name and not placement.layers and placement.when is None:
            lines.append(f"    manifest {_string('../' + placement.target)}")
    defaults = values_file(data, aicr_merge.base_values_file(component.name))
    if defaults:
        lines.append(f"    values {_map(defaults, 1)}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layer_text(
    data: AicrData,
    overlay: RecipeMetadata,
    components: Mapping[str, _Component],
    placements: Sequence[aicr_manifests.Placement],
    library: Mapping[str, Any],
) -> str:
    name = overlay.metadata.name
    is_base = name == "base" and data.standalone
    kind = "base" if is_base else ("environment" if data.standalone else "platform")
    criteria = overlay.spec.criteria.named() if overlay.spec.criteria else {}
    when = " and ".join(f"{k} == {v}" for k, v in criteria.items())
    lines = [
        f"# imported from {data.files[name]}" + (f" (base: {overlay.spec.base})" if overlay.spec.base else ""),
        f"layer {name}: {kind}{' when ' + when if when else ''} {{",
    ]
    refs = overlay.spec.componentRefs or ()
    used = [r.name for r in refs if (r.overrides or {}).get("enabled") is not False]
    if used:
        lines.append(f"    use {', '.join(used)}")
    dropped = [r.name for r in refs if (r.overrides or {}).get("enabled") is False]
    if dropped:
        lines.append(f"    drop {', '.join(dropped)}")
    for ref in refs:
        if ref.dependencyRefs and not (is_base and ref.name in components and ref.name not in library):
            lines.append(f"    needs {ref.name}: {', '.join(ref.dependencyRefs)}")
        for placement in placements:
            if placement.component == ref.name and name in placement.layers:
                lines.append(f"    manifest {ref.name} {_string('../' + placement.target)}")
        values: dict[str, Any] = {}
        if ref.valuesFile and ref.valuesFile != aicr_merge.base_values_file(ref.name):
            values = aicr_merge.deep_merge(values, values_file(data, ref.valuesFile) or {})
        # `enabled: false` is `drop`; any other `enabled` the reference passes to the chart
        aicr_merge.deep_merge(values, {k: v for k, v in (ref.overrides or {}).items() if not (k == "enabled" and v is False)})
        if values:
            lines.append(f"    values {ref.name} {_map(values, 1)}")
    for constraint in overlay.spec.constraints or ():
        statement = _require(constraint.name, constraint.value)
        lines.append(f"    {statement}" if statement else f"    # not carried: constraint {constraint.name} {constraint.value!r}")
    validation = overlay.spec.validation
    for phase in aicr_merge.PHASES:
        settings = getattr(validation, phase) if validation is not None else None
        if settings is not None and settings.checks:
            carried = phase in CHECK_PHASES  # readiness is the constraints themselves
            lines.append(f"    {'' if carried else '# not carried: '}check {phase} {', '.join(settings.checks)}")
        for constraint in (settings.constraints or ()) if settings is not None else ():
            lines.append(f"    # not carried: {phase} threshold {constraint.name} {constraint.value!r}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _manifest_layer_text(placement: aicr_manifests.Placement) -> str:
    return (
        "\n".join(
            [
                f"# {placement.file} (of `{placement.component}`) is a Go template that the reference renders",
                "# with each recipe's values: this is its rendering wherever this layer's `when` holds",
                f"layer {placement.layer}: environment when {placement.when} {{",
                f"    manifest {placement.component} {_string('../' + placement.target)}",
                "}",
            ]
        )
        + "\n"
    )


def _require(name: str, expression: str) -> str | None:
    parts = name.split(".", 2)
    if len(parts) != 3 or not all(NAME.fullmatch(p) for p in parts[:2]):
        return None
    text = expression.strip()
    operator = next((op for op in _OPERATORS if text.startswith(op)), "==")
    value = text[len(operator) :].strip() if text.startswith(operator) else text
    return f"require {parts[0]}.{parts[1]}.{format_path((parts[2],))} {operator} {_string(value)}"


def _dimensions(data: AicrData) -> str:
    """Our dimensions, which hold the reference's (al2/al2023 and l40 as aliases), without our
    defaults (the reference has none: an unset platform stays unset), and with any other value an
    overlay pins."""
    from aicrc.compiler.syntax import ast
    from aicrc.compiler.syntax.parser import parse

    module = parse(SourceFile("stdlib/dimensions.aicr", (stdlib_dir() / "dimensions.aicr").read_text(encoding="utf-8")))
    pinned: dict[str, list[str]] = {}
    for overlay in data.overlays.values():
        for dimension, value in (overlay.spec.criteria.named() if overlay.spec.criteria else {}).items():
            if value not in pinned.setdefault(dimension, []):
                pinned[dimension].append(value)
    blocks = ["# The reference system's dimensions, with the values its overlays pin."]
    for item in module.items:
        if not isinstance(item, ast.Dimension):
            continue
        known = {v.text for v in item.values} | {a.name.text for a in item.aliases}
        values = [v.text for v in item.values] + [v for v in pinned.pop(item.name.text, []) if v not in known]
        lines = [f"dimension {item.name.text} {{", f"    values {', '.join(values)}"]
        lines += [f"    family {f.name.text} = [{', '.join(m.text for m in f.members)}]" for f in item.families]
        lines += [f"    alias {a.name.text} = {a.target.text}" for a in item.aliases]
        blocks.append("\n".join([*lines, "}"]))
    blocks += [f"dimension {name} {{\n    values {', '.join(values)}\n}}" for name, values in pinned.items()]
    return "\n\n".join(blocks) + "\n"


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _value(value: Any, depth: int) -> str:
    if isinstance(value, dict):
        return _map(value, depth) if value else "{}"
    if isinstance(value, list):
        if any(isinstance(item, (dict, list)) for item in value):
            inner = "    " * (depth + 1)
            return "[\n" + "".join(f"{inner}{_value(item, depth + 1)},\n" for item in value) + "    " * depth + "]"
        return "[" + ", ".join(_value(item, depth) for item in value) + "]"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        text = repr(value)
        return text if re.fullmatch(r"[+-]?(0|[1-9][0-9]*)(\.[0-9]+([eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)", text) else _string(text)
    return _string(str(value))


def _map(values: Mapping[Any, Any], depth: int) -> str:
    inner = "    " * (depth + 1)
    lines = []
    for key, value in values.items():
        path = format_path((str(key),))
        if isinstance(value, dict) and value:
            lines.append(f"{inner}{path} {_map(value, depth + 1)}")
        else:
            lines.append(f"{inner}{path} = {_value(value, depth + 1)}")
    return "{\n" + "\n".join(lines) + "\n" + "    " * depth + "}"


# ---- checking and writing ------------------------------------------------------------------------


def import_overlays(paths: Sequence[str], output: str, data_root: str | None = None) -> Outcome:
    data = read_data(paths, data_root)
    from aicrc.compiler.load import loader

    library = None if data.standalone else loader.load_library(loader.default_roots())
    texts, notes = translate(data, library.components if library is not None else {})
    with tempfile.TemporaryDirectory(prefix="aicrc-import-") as staging:
        stage = Path(staging)
        for relative, text in sorted(texts.items()):
            target = stage / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_formatted(relative, text) if relative.endswith(".aicr") else text, encoding="utf-8")
        differences, checked = _verify(data, stage)
        out = Path(output)
        out.mkdir(parents=True, exist_ok=True)
        shutil.copytree(stage, out, dirs_exist_ok=True)
    return Outcome(sorted(texts), differences, checked, data.standalone, notes)


def _formatted(relative: str, text: str) -> str:
    from aicrc.tools.fmt import format_source

    return format_source(SourceFile(relative, text))


def _verify(data: AicrData, stage: Path) -> tuple[list[str], int]:
    """Compile each overlay's own criteria from the staged files and compare with the
    reference's rules; a translation that does not compile raises (and nothing is written)."""
    from aicrc.api import Library
    from aicrc.compiler.load import loader

    roots = (loader.SearchRoot("imported", stage),) if data.standalone else (*loader.default_roots(), loader.SearchRoot("imported", stage))
    program = loader.load_library(roots)
    library = Library(program)
    if not data.standalone:
        return [], 0  # the reference's rules cannot be run on our library: nothing to compare with
    differences: list[str] = []
    checked = 0
    for name in sorted(data.overlays):
        overlay = data.overlays[name]
        query = overlay.spec.criteria.named() if overlay.spec.criteria else {}
        if not query:
            continue
        checked += 1
        ours = library.compile(query)
        theirs = aicr_merge.resolve(data.overlays, query, lambda rel: values_file(data, rel), data.registry)
        bundle = aicr_manifests.bundle(data, theirs)
        differences += [f"{name}: {line}" for line in compare(theirs, ours.document, bundle)]
    return differences, checked


def compare(theirs: aicr_merge.Result, ours: Mapping[str, Any], manifests: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
    """What differs between the reference's recipe and ours: components, charts, namespaces,
    order, values, and (given the reference's bundle, see `aicr_manifests.bundle`) manifests."""
    found = []
    our_components = {c["name"]: c for c in ours["components"]}
    deployed = theirs.deployed
    if sorted(deployed) != sorted(our_components):
        found.append(f"components: reference {sorted(deployed)}, aicrc {sorted(our_components)}")
    order = [name for name in ours["deploymentOrder"] if name in deployed]
    if order != [name for name in deployed if name in our_components]:
        found.append(f"deployment order: reference {deployed}, aicrc {ours['deploymentOrder']}")
    for name in sorted(set(deployed) & set(our_components)):
        ref, component = theirs.components[name], our_components[name]
        chart = component.get("chart") or {}
        expected = {"repository": ref.source, "name": ref.chart or name, "version": ref.version} if ref.source else {}
        for key, value in expected.items():
            if value and chart.get(key) != value:
                found.append(f"{name} chart {key}: reference {value}, aicrc {chart.get(key)}")
        if component["namespace"] != (ref.namespace or DEFAULT_NAMESPACE):
            found.append(f"{name} namespace: reference {ref.namespace or '(none)'}, aicrc {component['namespace']}")
        if manifests is not None:
            found += _compare_manifests(name, manifests.get(name, {}), component["manifests"])
        theirs_leaves, our_leaves = leaf_paths(theirs.values[name]), leaf_paths(component["values"])
        for path in sorted(set(theirs_leaves) | set(our_leaves)):
            a, b = theirs_leaves.get(path, _ABSENT), our_leaves.get(path, _ABSENT)
            if a is _ABSENT or b is _ABSENT or not same(a, b):
                found.append(f"{format_path((name, *path))}: reference {_show(a)}, aicrc {_show(b)}")
    return found


def _compare_manifests(name: str, theirs: Mapping[str, str], ours: Sequence[Mapping[str, str]]) -> list[str]:
    """By the file name the reference's bundle gives each manifest."""
    mine = {PurePosixPath(m["name"]).name: m["content"] for m in ours}
    found = []
    for file in sorted(set(theirs) | set(mine)):
        if file not in mine or file not in theirs:
            found.append(f"{name} manifest {file}: {'only the reference has it' if file in theirs else 'only aicrc has it'}")
        elif mine[file] != theirs[file]:
            found.append(f"{name} manifest {file}: the contents differ")
    return found


_ABSENT = object()


def _show(value: Any) -> str:
    return "(absent)" if value is _ABSENT else json.dumps(value)
