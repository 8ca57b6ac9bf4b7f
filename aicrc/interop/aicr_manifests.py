"""The reference's manifests as its bundles hold them, and where the imported library attaches them.

The reference renders every manifest as a Go template when it writes a bundle, and leaves out one
that renders to no objects. The template reads the component's values as the bundle writes them
(`.Values`), its namespace (`.Release.Namespace`) and its chart (`.Chart.Name`, `.Chart.Version`).
Those values are the recipe's, plus what the bundler's options put at the registry's
`nodeScheduling` paths; with no options (as rendered here), tolerations that tolerate every taint
(`- operator: Exists`) at each `tolerationPaths` entry, system and accelerated. So one manifest
file can be several manifests, one per recipe that changes what it reads. aicrc's manifests are
files, not templates: the import renders each manifest for every combination of the overlays that
configure its component, and attaches each distinct rendering by a layer whose `when` holds
exactly where the reference produces it:

- a rendering the component always gets is the component's own `manifest`;
- one produced wherever some overlays apply (as where they name the file) goes in those layers;
- otherwise a layer of its own, `COMPONENT-FILE` (numbered if there are several), whose `when` is
  built from the overlays' criteria (`service != kind`, say).

Which overlays matter is found, not assumed: the fewest overlays whose applying or not decides the
rendering (a search over small sets, the overlays that name the file tried first).
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from aicrc import diagnostics as diag
from aicrc.interop import aicr_merge, gotemplate
from aicrc.interop.aicr_data import AicrData, manifest_text, values_file, where
from aicrc.interop.aicr_model import ComponentConfig, ComponentRef, RecipeMetadata
from aicrc.source import Span

_UNSUPPORTED_HELP = (
    "aicrc renders {{ pipeline }}, {{ $name := pipeline }}, if/else/end, parentheses, `|`, and the functions "
    f"{', '.join(gotemplate.FUNCTIONS)}: what the reference's manifests use"
)
DIMENSIONS = ("service", "accelerator", "os", "intent", "platform")
_SEARCH_LIMIT = 50_000  # overlay sets tried before settling for all of them (never reached by real data)


# ---- rendering -----------------------------------------------------------------------------------


def render(data: AicrData, ref: ComponentRef, values: Mapping[str, Any], file: str) -> str | None:
    """The manifest as the reference's bundle holds it for this merged reference and values; None
    when it renders to no objects (the bundle leaves it out). A template aicrc cannot render, or
    one Go would fail on, is a located error."""
    key = (file, ref.name, ref.namespace, ref.chart, ref.version, _frozen(values))
    if key not in data.rendered:
        text, display = manifest_text(data, file)
        chart = gotemplate.Struct("manifest.chartData", {"Name": ref.chart or ref.name, "Version": _chart_version(ref.version)})
        release = gotemplate.Struct("manifest.releaseData", {"Namespace": ref.namespace or "", "Service": "Helm"})
        scheduled = bundle_values(values, data.registry.get(ref.name))
        root = gotemplate.Struct("manifest.templateData", {"Values": {ref.name: scheduled}, "Release": release, "Chart": chart})
        try:
            rendered = gotemplate.render(_parsed(data, file, text), root)
        except gotemplate.GoTemplateError as failure:
            raise diag.AicrcError(
                [
                    diag.Diagnostic(
                        "E0704" if failure.unsupported else "E0701",
                        f"manifest template of `{ref.name}`: {failure.message}",
                        Span(display, failure.line, failure.column, failure.line, failure.column + 1),
                        help=_UNSUPPORTED_HELP if failure.unsupported else "the reference's bundler would fail on it too",
                    )
                ],
                data.sources,
            ) from None
        data.rendered[key] = rendered if _has_objects(rendered) else None
    return data.rendered[key]


def bundle_values(values: Mapping[str, Any], config: ComponentConfig | None) -> dict[str, Any]:
    """A component's values as the reference's bundle writes them, given no bundle options: the
    default tolerations set at each toleration path (maps made on the way, over any non-map)."""
    scheduled = copy.deepcopy(dict(values))
    scheduling = config.nodeScheduling if config is not None else None
    for group in (scheduling.system, scheduling.accelerated) if scheduling is not None else ():
        for path in (group.tolerationPaths or ()) if group is not None else ():
            *parents, last = path.split(".")
            current = scheduled
            for part in parents:
                if not isinstance(current.get(part), dict):
                    current[part] = {}
                current = current[part]
            current[last] = [{"operator": "Exists"}]
    return scheduled


def _parsed(data: AicrData, file: str, text: str) -> tuple[Any, ...]:
    if file not in data.templates:
        data.templates[file] = gotemplate.parse(text)
    return data.templates[file]


def _chart_version(version: str | None) -> str:
    """Chart metadata's version: without a leading `v`, and 0.1.0 when there is none."""
    return (version or "").removeprefix("v") or "0.1.0"


def _has_objects(text: str) -> bool:
    """Whether anything is left but blank lines, comments and `---` (the bundle's own test)."""
    return any(line.strip() and not line.strip().startswith("#") and line.strip() != "---" for line in text.split("\n"))


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return (type(value).__name__, value)


def bundle(data: AicrData, result: aicr_merge.Result) -> dict[str, dict[str, str]]:
    """Component -> manifest file name -> content, as the reference's bundle for this recipe holds
    them (it writes each under its base name; files that render to nothing are left out)."""
    manifests: dict[str, dict[str, str]] = {}
    for name in result.deployed:
        ref = result.components[name]
        for file in sorted(ref.manifestFiles or ()):
            content = render(data, ref, result.values[name], file)
            if content is not None:
                manifests.setdefault(name, {})[PurePosixPath(file).name] = content
    return manifests


# ---- where each rendering goes -------------------------------------------------------------------


@dataclass
class Placement:
    """One rendering of one manifest file, and how the imported library attaches it."""

    component: str
    file: str  # the manifest's path in the data folder
    content: str
    target: str = ""  # where it is written, under the output folder
    layers: list[str] = field(default_factory=list)  # overlays whose layers name it (none, and no `when`: the component's own)
    when: str | None = None  # the condition of a layer of its own
    layer: str | None = None  # that layer's name


def plan(data: AicrData) -> list[Placement]:
    """Every rendering of every manifest the overlays name, with where the library attaches it."""
    placements: list[Placement] = []
    for component in sorted({ref.name for overlay in data.overlays.values() for ref in overlay.spec.componentRefs or ()}):
        placements += _component_plan(data, component)
    taken = set(data.overlays)
    for placement in placements:
        if placement.when is not None:
            base = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{placement.component}-{PurePosixPath(placement.file).stem}").strip("-")
            name, number = base, 1
            while name in taken:
                number += 1
                name = f"{base}-{number}"
            taken.add(name)
            placement.layer = name
    _name_targets(placements)
    return placements


def _component_plan(data: AicrData, component: str) -> list[Placement]:
    overlays = {name: o for name, o in data.overlays.items() if any(r.name == component for r in o.spec.componentRefs or ())}
    by_set: dict[frozenset[str], dict[str, str | None]] = {}  # overlays that apply -> file -> rendering
    for applied in _applicable_sets(overlays):
        ref, values = _merged(data, overlays, applied, component)
        if ref is not None:  # (where the component is not deployed, nothing is attached)
            by_set[applied] = {file: render(data, ref, values, file) for file in ref.manifestFiles or ()}
    placements = []
    for file in dict.fromkeys(file for renderings in by_set.values() for file in renderings):
        placements += _place(data.overlays, component, file, {applied: renderings.get(file) for applied, renderings in by_set.items()})
    return placements


def _applicable_sets(overlays: Mapping[str, RecipeMetadata]) -> list[frozenset[str]]:
    """Each distinct set of these overlays that some query applies together: one query per
    combination of the values they pin (or none), as no other value can change which apply."""
    pins = [_pins(overlay) for overlay in overlays.values()]
    pinned = [sorted({p[d] for p in pins if d in p}) for d in DIMENSIONS]
    found: dict[frozenset[str], None] = {}
    for combination in itertools.product(*[[None, *values] for values in pinned]):
        query = {d: v for d, v in zip(DIMENSIONS, combination, strict=True) if v is not None}
        applied = frozenset(name for name, o in overlays.items() if name == "base" or aicr_merge.matches(o, query))
        if applied:
            found.setdefault(applied)
    return list(found)


def _merged(
    data: AicrData, overlays: Mapping[str, RecipeMetadata], applied: frozenset[str], component: str
) -> tuple[ComponentRef | None, dict[str, Any]]:
    """The component's merged reference (registry defaults in) and values where these overlays apply."""
    order = sorted(applied, key=lambda name: (name != "base", *aicr_merge.specificity(overlays[name])))
    refs = [r for name in order for r in overlays[name].spec.componentRefs or () if r.name == component]
    ref = refs[0]
    for later in refs[1:]:
        ref = aicr_merge.merge_ref(ref, later)
    ref = aicr_merge.with_registry_defaults(ref, data.registry.get(component))
    if (ref.overrides or {}).get("enabled") is False:
        return None, {}
    return ref, aicr_merge.helm_values(ref, lambda path: values_file(data, path))


def _place(
    overlays: Mapping[str, RecipeMetadata], component: str, file: str, by_set: Mapping[frozenset[str], str | None]
) -> list[Placement]:
    atoms = _atoms(overlays, file, by_set)
    decisive = _decisive(atoms, by_set)
    placements = []
    for content in dict.fromkeys(c for c in by_set.values() if c is not None):
        projections = {frozenset(applied & set(decisive)) for applied, c in by_set.items() if c == content}
        placement = Placement(component, file, content)
        if len(projections) == len({frozenset(applied & set(decisive)) for applied in by_set}):
            placements.append(placement)  # wherever the component is: its own manifest
            continue
        terms = [_conjunct(overlays, positive, set(decisive) - positive) for positive in sorted(projections, key=sorted)]
        if all(len(positive) == 1 and not negative for positive, negative in terms):
            placement.layers = sorted(next(iter(positive)) for positive, _ in terms)
        else:
            placement.when = " or ".join(_predicate(overlays, positive, negative, len(terms) > 1) for positive, negative in terms)
        placements.append(placement)
    return placements


def _atoms(overlays: Mapping[str, RecipeMetadata], file: str, by_set: Mapping[frozenset[str], Any]) -> list[str]:
    """The overlays whose applying can matter, those that name the file first."""
    always = frozenset.intersection(*by_set) if by_set else frozenset()
    varying = {name for applied in by_set for name in applied} - always
    naming = [n for n in sorted(varying) if any(file in (r.manifestFiles or ()) for r in overlays[n].spec.componentRefs or ())]
    return naming + [n for n in sorted(varying) if n not in naming]


def _decisive(atoms: Sequence[str], by_set: Mapping[frozenset[str], str | None]) -> tuple[str, ...]:
    """The smallest set of overlays whose applying or not decides the rendering."""
    tried = 0
    for size in range(len(atoms) + 1):
        for chosen in itertools.combinations(atoms, size):
            tried += 1
            if tried > _SEARCH_LIMIT:
                return tuple(atoms)
            seen: dict[frozenset[str], str | None] = {}
            if all(seen.setdefault(applied & frozenset(chosen), c) == c for applied, c in by_set.items()):
                return chosen
    return tuple(atoms)


def _conjunct(overlays: Mapping[str, RecipeMetadata], positive: Iterable[str], negative: Iterable[str]) -> tuple[set[str], list[str]]:
    """The overlays that must apply and those that must not, less what the others already imply."""
    pins = {name: _pins(overlays[name]) for name in [*positive, *negative]}
    must = {a for a in positive if not any(b != a and pins[a].items() < pins[b].items() for b in positive)}
    fixed: dict[str, str] = {}
    for name in must:
        fixed.update(pins[name])
    # an overlay pinning a value the positive ones contradict cannot apply anyway
    candidates = [n for n in negative if all(fixed.get(d, v) == v for d, v in pins[n].items())]
    must_not = [n for n in candidates if not any(m != n and pins[m].items() <= pins[n].items() for m in candidates)]
    return must, sorted(must_not)


def _predicate(overlays: Mapping[str, RecipeMetadata], positive: set[str], negative: Sequence[str], grouped: bool) -> str:
    fixed: dict[str, str] = {}
    for name in sorted(positive):
        fixed.update(_pins(overlays[name]))
    parts = [f"{d} == {v}" for d, v in _ordered(fixed)]
    for name in negative:
        rest = [(d, v) for d, v in _ordered(_pins(overlays[name])) if fixed.get(d) != v]
        parts.append(f"{rest[0][0]} != {rest[0][1]}" if len(rest) == 1 else "not (" + " and ".join(f"{d} == {v}" for d, v in rest) + ")")
    text = " and ".join(parts)
    return f"({text})" if grouped and len(parts) > 1 else text


def _pins(overlay: RecipeMetadata) -> dict[str, str]:
    return overlay.spec.criteria.named() if overlay.spec.criteria else {}


def _ordered(pins: Mapping[str, str]) -> list[tuple[str, str]]:
    return sorted(pins.items(), key=lambda item: DIMENSIONS.index(item[0]))


def _name_targets(placements: Sequence[Placement]) -> None:
    """Output paths: a file with one rendering keeps its path (less the conventional
    `components/`); several renderings go in folders named by the layer that attaches them, so
    each keeps the file name the reference's bundle gives it."""
    by_file: dict[tuple[str, str], list[Placement]] = {}
    for placement in placements:
        by_file.setdefault((placement.component, placement.file), []).append(placement)
    for (_, file), group in by_file.items():
        path = PurePosixPath(file)
        relative = path.relative_to("components") if path.parts[:1] == ("components",) else path
        for number, placement in enumerate(group, 1):
            if len(group) == 1:
                placement.target = f"manifests/{relative}"
                continue
            label = placement.layer or (placement.layers[0] if len(placement.layers) == 1 else f"rendering-{number}")
            placement.target = f"manifests/{relative.parent}/{label}/{relative.name}"


def verbatim(data: AicrData) -> list[Placement]:
    """Overlays on our library: their manifests go in the layers that name them, as they are. A
    template cannot be rendered here (its values come from our library), so it is an error."""
    placements: dict[tuple[str, str], Placement] = {}
    for name, overlay in sorted(data.overlays.items()):
        for index, ref in enumerate(overlay.spec.componentRefs or ()):
            for position, file in enumerate(ref.manifestFiles or ()):
                text = manifest_text(data, file)[0]
                if "{{" in text:  # Go reads any `{{` as an action
                    problem = diag.Diagnostic(
                        "E0704",
                        f"manifest `{file}` of `{ref.name}` is a template, rendered with the recipe's values",
                        where(data, name, "componentRefs", index, "manifestFiles", position),
                        help="import the whole data folder (with overlays/base.yaml), whose values render it",
                    )
                    raise diag.AicrcError([problem], data.sources)
                placement = placements.setdefault((ref.name, file), Placement(ref.name, file, text))
                placement.layers.append(name)
    _name_targets(list(placements.values()))
    return list(placements.values())
