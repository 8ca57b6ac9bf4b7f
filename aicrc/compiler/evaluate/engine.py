"""Stage 3, evaluate: Program + criteria -> Resolved.

Layers that apply to the criteria are grouped into precedence bands by (kind, specificity); bands
apply lowest first, so a higher band overrides silently (and `explain` shows what it overrode).
Inside one band the order of layers is arbitrary, so any disagreement between two of them is an
error that names both places. Which layers apply, and what each contributes with its features
expanded (a `Unit`), is `selection.py`'s.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from functools import partial
from typing import Any

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.criteria import RawCriterion, bind
from aicrc.compiler.evaluate.memo import PerObject
from aicrc.compiler.evaluate.model import AppliedLayer, Constraint, Manifest, Resolved, ResolvedComponent
from aicrc.compiler.evaluate.selection import Unit, expand, select_layers
from aicrc.compiler.evaluate.values import Assignment, Origin, Path, ValueTree, same
from aicrc.compiler.evaluate.warnings import schema_warnings, unmatched_dimensions, unused_components
from aicrc.compiler.load.program import ComponentDef, ManifestFile, Program, Step
from aicrc.compiler.load.resolve import to_python
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.walk import Visitor
from aicrc.records import Record
from aicrc.source import Span


class Override(Record):
    """`--set component:path=value` from the command line (or an API caller)."""

    component: str
    path: Path
    value: Any


class _Effects:
    """What a unit does, in the shape needed to compare it with the other units of its band."""

    def __init__(self) -> None:
        self.uses: dict[str, Span] = {}
        self.drops: dict[str, Span] = {}
        self.assignments: list[Assignment] = []
        self.needs: list[tuple[str, str, Span]] = []
        self.manifests: list[tuple[str, ManifestFile]] = []
        self.requires: dict[tuple[str, str], list[Constraint]] = {}  # (phase or "", measurement)
        self.checks: list[tuple[str, str]] = []

    def final_values(self) -> dict[tuple[str, Path], Assignment]:
        return {(a.component, a.path): a for a in self.assignments}


def evaluate(
    program: Program,
    recipe: ast.Recipe | None,
    criteria: Sequence[RawCriterion] = (),
    overrides: Sequence[Override] = (),
    name: str | None = None,
) -> Resolved:
    raw = list(criteria)
    if recipe is not None:
        raw = [RawCriterion(b.dimension.text, b.value.text, b.span) for b in recipe.bindings] + raw
    bound = bind(raw, program.dimensions)

    units = select_layers(program, bound)
    warnings = unmatched_dimensions((unit.named for unit in units), bound, recipe.name.span if recipe else None)
    if recipe is not None:
        recipe_unit = Unit(recipe.name.text, "recipe", frozenset(bound), recipe.span)
        expand(program, bound, recipe_unit, ("recipe", recipe.name.text), None, None)
        units.append(recipe_unit)

    members: dict[str, Span | None] = {}
    dropped: dict[str, Span | None] = {}
    assignments: list[Assignment] = []
    strict: list[Assignment] = []  # the recipe's own and the command line's: must hit a member
    needs: dict[str, dict[str, Span]] = defaultdict(dict)
    manifests: dict[str, list[ManifestFile]] = defaultdict(list)
    constraints: dict[tuple[str, str], list[Constraint]] = {}  # (phase, or "" for readiness; measurement)
    checks: dict[str, list[str]] = defaultdict(list)
    applied: list[AppliedLayer] = []

    for band in _bands(units):
        effects = [_EFFECTS.get(unit, partial(_effects, unit)) for unit in band]
        _check_band(band, effects)
        for unit, effect in zip(band, effects, strict=False):
            if unit.kind != "recipe":
                applied.append(AppliedLayer(unit.name, unit.kind, unit.specificity, unit.span))
            for component, span in effect.uses.items():
                members[component] = span
                dropped.pop(component, None)
            for component, span in effect.drops.items():
                members.pop(component, None)
                dropped[component] = span
            assignments += effect.assignments
            if unit.kind == "recipe":
                strict += effect.assignments
            for component, dependency, span in effect.needs:
                needs[component].setdefault(dependency, span)
            for component, file in effect.manifests:
                manifests[component].append(file)
            constraints.update(effect.requires)
            for phase, check in effect.checks:
                if check not in checks[phase]:
                    checks[phase].append(check)

    cli_origin = Origin("command line (--set)", "command-line", None)
    for override in overrides:
        assignment = Assignment(override.component, override.path, override.value, cli_origin)
        assignments.append(assignment)
        strict.append(assignment)

    _check_strict(program, strict, members)
    components = _resolve_components(program, members, assignments, needs, manifests)
    warnings += schema_warnings(components.values(), program) + unused_components(program)
    return Resolved(
        recipe=name or (recipe.name.text if recipe else "-".join(bound.values()) or "generic"),
        criteria=bound,
        layers=applied,
        components=components,
        dropped=dropped,
        constraints=[c for key in sorted(constraints) if not key[0] for c in constraints[key]],
        check_constraints={
            phase: [c for key in sorted(constraints) if key[0] == phase for c in constraints[key]]
            for phase in sorted({phase for phase, _ in constraints if phase})
        },
        checks={phase: sorted(names) for phase, names in sorted(checks.items())},
        warnings=warnings,
        given={item.dimension.lower(): item for item in raw if item.dimension.lower() in bound},
    )


# ---- precedence bands and what each unit does ----------------------------------------------------


def _bands(units: list[Unit]) -> list[list[Unit]]:
    ordered = sorted(units, key=lambda u: (u.precedence, u.name))
    bands: list[list[Unit]] = []
    for unit in ordered:
        if bands and bands[-1][0].precedence == unit.precedence:
            bands[-1].append(unit)
        else:
            bands.append([unit])
    return bands


_EFFECTS: PerObject[_Effects] = PerObject()  # what a unit does, read but never changed


def _effects(unit: Unit) -> _Effects:
    collector = _EffectsCollector()
    for step, origin in unit.steps:
        collector.step, collector.origin = step, origin
        collector.walk(step.statement)
    return collector.effects


class _EffectsCollector(Visitor):
    """Reads one statement at a time (with what loading resolved for it) into `effects`."""

    def __init__(self) -> None:
        self.effects = _Effects()
        self.step: Step
        self.origin: Origin

    def visit_Use(self, node: ast.Use) -> None:
        for name in node.components:
            self.effects.uses[name.text] = name.span
            self.effects.drops.pop(name.text, None)

    def visit_Drop(self, node: ast.Drop) -> None:
        for name in node.components:
            self.effects.drops[name.text] = name.span
            self.effects.uses.pop(name.text, None)

    def visit_Set(self, node: ast.Set | ast.ValuesBlock) -> None:
        self.effects.assignments += [Assignment(w.component, w.path, w.value, self.origin) for w in self.step.writes]

    visit_ValuesBlock = visit_Set

    def visit_Needs(self, node: ast.Needs) -> None:
        self.effects.needs += [(node.component.text, dependency.text, dependency.span) for dependency in node.dependencies]

    def visit_AddManifest(self, node: ast.AddManifest) -> None:
        if self.step.manifest is not None:
            self.effects.manifests.append((node.component.text, self.step.manifest))

    def visit_Require(self, node: ast.Require) -> None:
        measurement = ".".join(node.path.segments)  # Type.Subtype.Key, as the reference names them
        constraint = Constraint(measurement, node.op, to_python(node.value), self.origin)
        phase = node.phase.text if node.phase is not None else ""
        self.effects.requires.setdefault((phase, measurement), []).append(constraint)

    def visit_Check(self, node: ast.Check) -> None:
        self.effects.checks += [(node.phase.text, name.text) for name in node.names]


# ---- equal precedence must agree -----------------------------------------------------------------


def _check_band(band: list[Unit], effects: list[_Effects]) -> None:
    if len(band) < 2:
        return
    values = [e.final_values() for e in effects]
    if not _may_disagree(effects, values):
        return
    problems = diag.Collector()
    for i in range(len(band)):
        for j in range(i + 1, len(band)):
            _compare(band[i], band[j], effects[i], effects[j], values[i], values[j], problems)
    problems.raise_if_any()


def _may_disagree(effects: list[_Effects], values: list[dict[tuple[str, Path], Assignment]]) -> bool:
    """Whether two units of a band may disagree as `_compare` tells, found in one pass over the
    band: a hundred agreeing base layers cost a hundred units, not five thousand pairs. It may say
    True where `_compare` then finds nothing, never False where it would find something."""
    first: dict[tuple[str, Path], tuple[int, Assignment]] = {}
    setters: dict[tuple[str, Path], set[int]] = defaultdict(set)  # the units that set a key to more than {}
    for unit, final in enumerate(values):
        for key, assignment in final.items():
            seen = first.setdefault(key, (unit, assignment))
            if seen[0] != unit and not same(seen[1].value, assignment.value):
                return True
            if assignment.value != {}:
                setters[key].add(unit)
    for unit, final in enumerate(values):
        for component, path in final:
            if any(setters.get((component, path[:cut]), set()) - {unit} for cut in range(1, len(path))):
                return True
    used = {component for effect in effects for component in effect.uses}
    if any(component in used for effect in effects for component in effect.drops):  # a unit never both uses and drops one
        return True
    required: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for effect in effects:
        for measured, constraints in effect.requires.items():
            stated = [(c.operator, c.value) for c in constraints]
            if required.setdefault(measured, stated) != stated:
                return True
    return False


def _compare(
    a: Unit,
    b: Unit,
    ea: _Effects,
    eb: _Effects,
    va: dict[tuple[str, Path], Assignment],
    vb: dict[tuple[str, Path], Assignment],
    problems: diag.Collector,
) -> None:
    kind, spec = a.kind, a.specificity

    def clash(what: str, here: Span | None, there: Span | None, detail: str) -> None:
        problems.add(
            "E0401",
            f"layers `{a.name}` and `{b.name}` have equal precedence and disagree on {what}",
            there,
            labels=(diag.Label(here, f"`{a.name}`: {detail}"),) if here else (),
            notes=(f"both are `{kind}` layers naming {spec} dimension(s), so neither overrides the other",),
            help="make one layer more specific (name another dimension in its `when`), or agree on one value",
        )

    for key, assignment in va.items():
        other = vb.get(key)
        shown = ".".join((key[0], *key[1]))
        if other is not None and not same(assignment.value, other.value):
            clash(f"`{shown}`", assignment.origin.span, other.origin.span, f"{_show(assignment.value)}; `{b.name}`: {_show(other.value)}")
    for first, second, _x, y in ((va, vb, a, b), (vb, va, b, a)):
        for (component, path), assignment in first.items():
            for cut in range(1, len(path)):
                blocker = second.get((component, path[:cut]))
                if blocker is not None and blocker.value != {}:
                    shown = ".".join((component, *path[:cut]))
                    clash(
                        f"`{shown}`",
                        assignment.origin.span,
                        blocker.origin.span,
                        f"sets a key under it; `{y.name}` sets it to {_show(blocker.value)}",
                    )
    for component, span in ea.uses.items():
        if component in eb.drops:
            clash(f"component `{component}`", span, eb.drops[component], f"uses it; `{b.name}` drops it")
    for component, span in ea.drops.items():
        if component in eb.uses:
            clash(f"component `{component}`", span, eb.uses[component], f"drops it; `{b.name}` uses it")
    for (phase, measurement), constraints in ea.requires.items():
        others = eb.requires.get((phase, measurement))
        if others is not None and [(c.operator, c.value) for c in constraints] != [(c.operator, c.value) for c in others]:
            clash(
                f"constraint `{f'{phase} ' if phase else ''}{measurement}`",
                constraints[0].origin.span,
                others[0].origin.span,
                f"{constraints[0].operator} {_show(constraints[0].value)}; `{b.name}`: {others[0].operator} {_show(others[0].value)}",
            )


def _show(value: Any) -> str:
    return json.dumps(value)


# ---- assembling components -----------------------------------------------------------------------


def _check_strict(program: Program, strict: list[Assignment], members: dict[str, Span | None]) -> None:
    problems = diag.Collector()
    reported: set[str] = set()
    for assignment in strict:
        if assignment.component in members or assignment.component in reported:
            continue
        reported.add(assignment.component)
        where = "--set" if assignment.origin.kind == "command-line" else "the recipe"
        problems.add(
            "E0403",
            f"{where} sets values for `{assignment.component}`, which is not in the recipe",
            assignment.origin.span,
            notes=(f"components in the recipe: {diag.one_of(members)}",),
            help=diag.did_you_mean(assignment.component, members) or f"add `use {assignment.component}` to the recipe",
        )
    problems.raise_if_any(program.sources)


def _resolve_components(
    program: Program,
    members: dict[str, Span | None],
    assignments: list[Assignment],
    needs: dict[str, dict[str, Span]],
    added: dict[str, list[ManifestFile]],
) -> dict[str, ResolvedComponent]:
    trees = {name: _defaults(name, program.component_defs[name]) for name in members}
    for assignment in assignments:
        if assignment.component in trees:
            trees[assignment.component].apply(assignment)
    components: dict[str, ResolvedComponent] = {}
    problems = diag.Collector()
    for name in sorted(members):
        definition = program.components[name]
        declared = {n.text: n.span for n in definition.needs}
        components[name] = ResolvedComponent(  # by position: a Record's fastest way in, once per component
            name,
            definition,
            definition.kind.text if definition.kind else "helm",
            definition.namespace.text,  # type: ignore[union-attr] # required by check_references
            trees[name].values,
            trees[name].history,
            {**declared, **{d: s for d, s in needs.get(name, {}).items() if d not in declared}},
            _manifests([*program.component_defs[name].manifests, *added.get(name, ())], problems),
        )
        if components[name].kind == "manifests" and not components[name].manifests:
            problems.add(
                "E0306",
                f"component `{name}` is `kind manifests` but has no manifest in this recipe",
                definition.name.span,
                notes=("neither the component nor a layer that applies names a manifest for it",),
                help=f'add `manifest "file.yaml"` to the component, or `manifest {name} "file.yaml"` to a layer',
            )
    problems.raise_if_any(program.sources)
    return components


# A component's own defaults are the same in every compile against its library: their value tree is
# built once per definition and copied, sharing what no assignment changes (compiled values are
# read, never changed in place).
_DEFAULT_TREES: PerObject[ValueTree] = PerObject()


def _defaults(name: str, definition: ComponentDef) -> ValueTree:
    def build() -> ValueTree:
        tree = ValueTree()
        for write in definition.defaults:
            tree.apply(Assignment(name, write.path, write.value, Origin(f"component {name}", "component", write.value_span)))
        return tree

    return _DEFAULT_TREES.get(definition, build).copy()


def _manifests(files: list[ManifestFile], problems: diag.Collector) -> list[Manifest]:
    """The component's own manifests, then those layers added (lowest precedence first); a file
    named twice is applied once."""
    read: dict[str, Manifest] = {}
    for file in files:
        if file.error is not None and file.name not in read:
            problems.diagnostics.append(file.error)
        read.setdefault(file.name, Manifest(file.name, file.text))
    return list(read.values())
