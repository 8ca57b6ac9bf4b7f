"""Stage 4, solve: component dependencies -> deployment order and install waves.

The graph is a `networkx.DiGraph` with an edge from each dependency to the component that needs
it. The order is `lexicographical_topological_sort` (among ready components, alphabetical first,
as the reference system does), and `topological_generations` gives the waves: every component of
wave N can install in parallel once waves < N are ready.

networkx takes longer to import than the whole rest of a compile, so solved plans are cached on
disk by the graph they were computed from (a pure function of it).
"""

from __future__ import annotations

import itertools
import json

from aicrc import cache
from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.model import Resolved
from aicrc.records import Record


class Plan(Record):
    order: tuple[str, ...]
    waves: dict[str, int]


def solve(resolved: Resolved) -> Plan:
    _check_missing(resolved)
    nodes = sorted(resolved.components)
    edges = sorted((dependency, name) for name, component in resolved.components.items() for dependency in component.needs)
    entry = cache.key("plan", json.dumps([nodes, edges]))
    cached = cache.load("plan", entry)
    if isinstance(cached, Plan):
        return cached
    plan = _solve_graph(resolved, nodes, edges)
    cache.store("plan", entry, plan)
    return plan


def _solve_graph(resolved: Resolved, nodes: list[str], edges: list[tuple[str, str]]) -> Plan:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    if not nx.is_directed_acyclic_graph(graph):
        raise _cycle_error(resolved, nx.find_cycle(graph))
    order = tuple(nx.lexicographical_topological_sort(graph))
    waves = {name: wave for wave, generation in enumerate(nx.topological_generations(graph)) for name in generation}
    return Plan(order, waves)


def _check_missing(resolved: Resolved) -> None:
    problems = diag.Collector()
    for name, component in sorted(resolved.components.items()):
        for dependency, span in sorted(component.needs.items()):
            if dependency in resolved.components:
                continue
            if dependency in resolved.dropped:
                drop = resolved.dropped[dependency]
                problems.add(
                    "E0503",
                    f"`{dependency}` is dropped, but `{name}` needs it",
                    drop,
                    labels=(diag.Label(span, f"`{name}` needs `{dependency}` here"),),
                    notes=(f"dependency path: {name} -> {dependency} (dropped)",),
                    help=f"keep `{dependency}`, or drop `{name}` as well",
                )
            else:
                problems.add(
                    "E0501",
                    f"`{name}` needs `{dependency}`, which is not in the recipe",
                    span,
                    notes=(f"dependency path: {name} -> {dependency} (missing)",),
                    help=f"add `use {dependency}` to the recipe or to a layer it selects",
                )
    problems.raise_if_any()


def _cycle_error(resolved: Resolved, cycle_edges: list[tuple[str, str]]) -> diag.AicrcError:
    # networkx reports edges dependency -> dependent; users think in "needs", the other way round.
    needs_chain = [dependent for _, dependent in reversed(cycle_edges)]
    needs_chain.append(needs_chain[0])
    labels = tuple(diag.Label(resolved.components[a].needs[b], f"`{a}` needs `{b}`") for a, b in itertools.pairwise(needs_chain))
    return diag.error(
        "E0502",
        "dependency cycle: " + " -> ".join(needs_chain),
        labels[0].span,
        labels=labels[1:],
        help="remove one of these `needs` so that the components can be installed in some order",
    )
