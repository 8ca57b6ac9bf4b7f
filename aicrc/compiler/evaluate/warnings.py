"""What a compile warns about: it compiled, but probably not as the author meant.

- W0001: a dimension of the criteria that no applied layer names (gb200 on gke): the generic
  configuration applies for it.
- W0002 / W0003: a compiled value whose path the component's values schema does not have (a typo,
  or a key of another chart version), or whose value it does not allow.
- W0004: a component that is defined but that no layer, feature or recipe uses.

`--strict` (and `strict=True` in the API) turns every warning into an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.memo import PerObject
from aicrc.compiler.evaluate.model import ResolvedComponent
from aicrc.compiler.evaluate.schemas import check_value
from aicrc.compiler.evaluate.values import Contribution, Path
from aicrc.compiler.load.program import Program
from aicrc.source import Span


def unmatched_dimensions(named: Iterable[frozenset[str]], criteria: Mapping[str, str], recipe: Span | None) -> list[diag.Diagnostic]:
    """Bound dimensions that no applied layer's `when` names: the library has nothing specific for
    them, so the recipe compiles to the generic configuration for them."""
    mentioned = frozenset().union(*named)
    unmatched = [f"{name}={value}" for name, value in criteria.items() if name not in mentioned]
    if not unmatched:
        return []
    return [
        diag.Diagnostic(
            "W0001",
            f"{', '.join(unmatched)} matched no specific layer: the generic configuration applies for them",
            recipe,
            severity="warning",
        )
    ]


def schema_warnings(components: Iterable[ResolvedComponent], program: Program) -> list[diag.Diagnostic]:
    """Each compiled value against its component's values schema, pointing at what set it."""
    found: list[diag.Diagnostic] = []
    for component in components:
        definition = program.component_defs[component.name]
        if definition.schema is None:
            continue
        chart = definition.declaration.chart
        chart_name = chart.name.text if chart else component.name
        allowed = _ALLOWED.get(definition, set)
        defaults = _DEFAULT_VERDICTS.get(definition, dict)
        for path, chain in component.history.items():
            known = defaults.get(path)
            if known is not None and known[0] is chain:
                found += known[1]
                continue
            winner = chain[-1]
            seen = (path, _identity(winner.value))
            if seen in allowed:
                problems: list[diag.Diagnostic] = []
            else:
                at = winner.origin.span
                problems = list(check_value(component.name, path, winner.value, definition.schema, chart_name, ("W0002", "W0003"), at, at))
                if not problems:
                    allowed.add(seen)
            found += problems
            if len(chain) == 1 and winner.origin.kind == "component":
                defaults[path] = (chain, problems)
    return found


# What a component's schema allows, (path, value) by (path, value), remembered with its definition:
# most compiles against a library set the same values.
_ALLOWED: PerObject[set[tuple[tuple[str, ...], object]]] = PerObject()
# The verdict on each of a component's defaults, by path, with the history it was reached for.
# Every compile shares the history of a default no layer changed with the component's tree of
# defaults (the very list), so that identity finds most values' verdicts without a look at them;
# the list is held here, so its identity cannot pass to another.
_DEFAULT_VERDICTS: PerObject[dict[Path, tuple[list[Contribution], list[diag.Diagnostic]]]] = PerObject()


def _identity(value: object) -> object:
    """A hashable stand-in for a value that tells `true` from `1` and `1` from `1.0` (a list's or
    a map's repr does too: values are plain data)."""
    return repr(value) if isinstance(value, list | dict) else (type(value), value)


def unused_components(program: Program) -> list[diag.Diagnostic]:
    return [
        diag.Diagnostic(
            "W0004",
            f"component `{name}` is defined but no layer, feature or recipe uses it",
            declaration.name.span,
            severity="warning",
            help=f"add `use {name}` to the layer that should install it, or remove the component",
        )
        for name, declaration in sorted(program.components.items())
        if name not in program.used
    ]
