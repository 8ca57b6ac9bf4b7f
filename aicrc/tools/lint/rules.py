"""Lint rules over the language: what compiles but is probably not what the author meant."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.criteria import apply_defaults
from aicrc.compiler.evaluate.predicates import holds
from aicrc.compiler.load.program import Program, Step, ValueWrite
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.walk import Visitor, predicate_dimensions
from aicrc.records import Record
from aicrc.source import Span

# One exact chart version: 1.2.3, v25.10.1, 0.9.0-rc.1 (no ranges, wildcards or `latest`).
_PINNED = re.compile(r"v?\d+(\.\d+)*([-+][0-9A-Za-z.-]+)?")


class Body(Record):
    """A list of statements that belongs to one declaration, for the rules that read statements."""

    owner: str  # `layer eks`, `recipe r`, `component gpu-operator`
    steps: tuple[Step, ...]
    writes: tuple[ValueWrite, ...]


def bodies(program: Program, module: ast.Module) -> Iterator[Body]:
    """The bodies of a module's declarations, as the loader resolved them."""
    for item in module.items:
        if isinstance(item, (ast.Layer, ast.Feature, ast.Recipe)):
            kind = type(item).__name__.lower()
            steps = program.bodies.get((kind, item.name.text), ())
            yield Body(f"{kind} `{item.name.text}`", steps, tuple(w for step in steps for w in step.writes))
        elif isinstance(item, ast.Component) and item.name.text in program.component_defs:
            yield Body(f"component `{item.name.text}`", (), program.component_defs[item.name.text].defaults)


def _finding(code: str, message: str, span: Span | None, **extra: Any) -> diag.Diagnostic:
    return diag.Diagnostic(code, message, span, severity="warning", **extra)


# ---- L0101 ----------------------------------------------------------------------------------------


def set_twice(body: Body) -> Iterator[diag.Diagnostic]:
    """The same value (or a value and a key inside it) written twice by one declaration: only the
    last counts, so the first is dead or a mistake."""
    seen: list[ValueWrite] = []
    for write in body.writes:
        earlier = next((w for w in seen if w.component == write.component and _overlap(w.path, write.path)), None)
        if earlier is not None:
            shown = ".".join((write.component, *write.path))
            yield _finding(
                "L0101",
                f"{body.owner} sets `{shown}` again",
                write.key,
                labels=(diag.Label(earlier.key, "set here first"),),
                help="keep one of the two; within one declaration only the last write counts",
            )
        seen.append(write)


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The same key, or one inside the other."""
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


# ---- L0102 ----------------------------------------------------------------------------------------


def enabled_features(modules: Iterable[ast.Module]) -> set[str]:
    """Every feature some `enable` or `when ... enable` names, anywhere in the modules."""
    collector = _EnabledFeatures()
    for module in modules:
        collector.walk_all(module.items)
    return collector.enabled


class _EnabledFeatures(Visitor):
    def __init__(self) -> None:
        self.enabled: set[str] = set()

    def visit_Enable(self, node: ast.Enable | ast.Rule) -> None:
        self.enabled.update(name.text for name in node.features)

    visit_Rule = visit_Enable

    def visit_Component(self, node: ast.Component) -> None:
        pass  # nothing in a component enables a feature: skip its values

    visit_Dimension = visit_Component


def unused_feature(feature: ast.Feature, enabled: set[str]) -> Iterator[diag.Diagnostic]:
    if feature.name.text not in enabled:
        yield _finding(
            "L0102",
            f"feature `{feature.name.text}` is never enabled",
            feature.name.span,
            help=f"enable it in a layer (`enable {feature.name.text}` or `when ... enable {feature.name.text}`), or remove it",
        )


# ---- L0103, L0104 ---------------------------------------------------------------------------------


def never_selected(layer: ast.Layer, program: Program) -> Iterator[diag.Diagnostic]:
    if layer.when is None:
        return
    named = _with_default_inputs(predicate_dimensions(layer.when), program)
    dimensions = [program.dimensions[name] for name in sorted(named) if name in program.dimensions]
    for combination in itertools.product(*([None, *d.values] for d in dimensions)):
        criteria = {d.name: value for d, value in zip(dimensions, combination, strict=True) if value is not None}
        apply_defaults(criteria, program.dimensions)
        if holds(layer.when, criteria, program.dimensions):
            return
    yield _finding(
        "L0103",
        f"layer `{layer.name.text}` can never apply: no combination of dimension values satisfies its `when`",
        layer.when.span,
        notes=(f"checked every combination of {', '.join(d.name for d in dimensions)} (each also unset), defaults applied",),
        help="a dimension has one value at a time: `a == x and a == y` never holds; did you mean `or`, or `in [x, y]`?",
    )


def _with_default_inputs(names: frozenset[str], program: Program) -> set[str]:
    """The dimensions a predicate names, plus those their defaults depend on (platform follows
    intent), so enumerating them covers every way the predicate can be reached."""
    closure, todo = set(names), list(names)
    while todo:
        dimension = program.dimensions.get(todo.pop())
        for default in dimension.defaults if dimension else ():
            for name in predicate_dimensions(default.when) - closure:
                closure.add(name)
                todo.append(name)
    return closure


def predicate_key(predicate: ast.Predicate | None) -> Any:
    """A predicate's meaning up to order: `a and b` is `b and a`, `in [x, y]` is `in [y, x]`."""
    if predicate is None:
        return ("always",)
    if isinstance(predicate, ast.Compare):
        return ("compare", predicate.dimension.text, predicate.op, predicate.value.text)
    if isinstance(predicate, ast.In):
        return ("in", predicate.dimension.text, tuple(sorted({v.text for v in predicate.values})))
    if isinstance(predicate, ast.Not):
        return ("not", predicate_key(predicate.item))
    return (type(predicate).__name__, tuple(sorted(map(repr, (predicate_key(i) for i in predicate.items)))))


def duplicate_layers(layers: Iterable[ast.Layer], interest: set[str]) -> Iterator[diag.Diagnostic]:
    """Reported at each checked layer that has a twin, pointing at the twin: within the checked
    files once per pair (at the later layer), and against the library whichever sorts first."""
    twins: dict[Any, list[ast.Layer]] = {}
    for layer in sorted(layers, key=lambda item: (item.span.file, item.span.line)):
        twins.setdefault((layer.kind.text, predicate_key(layer.when)), []).append(layer)
    for group in twins.values():
        for index, layer in enumerate(group):
            if len(group) < 2 or layer.span.file not in interest:
                continue
            if index == 0 and any(other.span.file in interest for other in group[1:]):
                continue  # the pair is reported at the later layer
            other = group[0] if index > 0 else group[1]
            yield _finding(
                "L0104",
                f"layers `{other.name.text}` and `{layer.name.text}` are both `{layer.kind.text}` layers with the same `when`",
                layer.name.span,
                labels=(diag.Label(other.name.span, "the other layer"),),
                notes=("they always apply together at equal precedence, so any value they both set must agree",),
                help="merge them into one layer",
            )


# ---- L0105, L0106 ---------------------------------------------------------------------------------


def unpinned_chart(component: ast.Component) -> Iterator[diag.Diagnostic]:
    if component.chart is None:
        return
    version = component.chart.version
    if not _PINNED.fullmatch(str(version.value)):
        yield _finding(
            "L0105",
            f"chart version {str(version.value)!r} of component `{component.name.text}` is not pinned",
            version.span,
            notes=("a range, a wildcard or `latest` lets the same recipe install different charts on different days",),
            help='pin one exact version, e.g. version "v25.10.1"',
        )


_TAG_KEYS = re.compile(r"(tag|.*Tag)")
_IMAGE_KEYS = ("image", "repository")


def latest_image_value(write: ValueWrite) -> Iterator[diag.Diagnostic]:
    """`tag = "latest"`, or an image reference ending in `:latest`, in Helm values."""
    if not write.path or not isinstance(write.value, str):
        return
    key = write.path[-1]
    if (_TAG_KEYS.fullmatch(key) and write.value == "latest") or (key in _IMAGE_KEYS and write.value.endswith(":latest")):
        shown = ".".join((write.component, *write.path))
        yield _finding(
            "L0106",
            f"`{shown}` uses the image tag `latest`",
            write.value_span,
            notes=("`latest` moves: the same recipe would deploy different images on different days",),
            help="pin a version tag (or a digest)",
        )
