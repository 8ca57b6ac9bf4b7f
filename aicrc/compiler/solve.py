"""Stage 4, solve: component dependencies -> deployment order and install waves.

The order is the lexicographical topological sort (among ready components, alphabetical first,
as the reference system does), and the waves are the topological generations: every component
of wave N can install in parallel once waves < N are ready. Both come from one pass of Kahn's
algorithm over the graph with an edge from each dependency to the component that needs it,
which takes microseconds; networkx (whose import alone takes longer than a whole compile) is
imported only to name a cycle when there is one.
"""

from __future__ import annotations

import heapq
import itertools

from aicrc import diagnostics as diag
from aicrc.compiler.evaluate.model import Resolved
from aicrc.records import Record


class Plan(Record):
    order: tuple[str, ...]
    waves: dict[str, int]


def solve(resolved: Resolved) -> Plan:
    _check_missing(resolved)
    dependents: dict[str, list[str]] = {name: [] for name in resolved.components}
    waiting = {name: len(component.needs) for name, component in resolved.components.items()}
    for name, component in resolved.components.items():
        for dependency in component.needs:
            dependents[dependency].append(name)
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    waves = dict.fromkeys(ready, 0)
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for dependent in dependents[name]:
            waves[dependent] = max(waves.get(dependent, 0), waves[name] + 1)
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)
    if len(order) < len(waiting):
        raise _cycle_error(resolved, _a_cycle(resolved))
    return Plan(tuple(order), waves)


def _a_cycle(resolved: Resolved) -> list[tuple[str, str]]:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(resolved.components))
    graph.add_edges_from(sorted((dependency, name) for name, component in resolved.components.items() for dependency in component.needs))
    return list(nx.find_cycle(graph))


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
