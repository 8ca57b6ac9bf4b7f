"""K8s.policy: the GPU Operator's ClusterPolicy (`nvidia.com/v1` `clusterpolicies`), its spec
flattened as the reference flattens it: nested keys joined by dots (`driver.version`), every value
written as text (`true`, `42`, `3.14`), a list as JSON as Go writes it (compact, keys sorted),
empty lists and maps left out. Several policies write into one subtype, the later one winning.

The reference discovers every API group that serves a `ClusterPolicy` kind; the GPU Operator's is
the only one a recipe deploys, so aicrc asks for it alone (one request, not a discovery of the
whole API). A cluster without the GPU Operator's CRD answers 404: the subtype is skipped as not
installed. A `null` in the spec (which a structural CRD prunes anyway) is left out.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aicrc.cluster.collectors.base import Collector, SkipError, Sources
from aicrc.cluster.snapshot import Readings, reading_text

GROUP, VERSION, PLURAL = "nvidia.com", "v1", "clusterpolicies"
NOT_INSTALLED = f"the GPU Operator's ClusterPolicy API ({GROUP}/{VERSION} {PLURAL}) is not installed"
# Deeper than any real spec (the CRD's schema nests about 6), shallow enough to write lists of it
# back as JSON by recursion.
MAX_DEPTH = 100
# Characters Go's encoding/json escapes in strings, where Python's json writes them as they are.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def collect(sources: Sources) -> Readings:
    kube = sources.cluster.api()
    found: Readings = {}
    for policy in sources.cluster.items(
        "list ClusterPolicies", kube.custom.list_cluster_custom_object, GROUP, VERSION, PLURAL, not_found=NOT_INSTALLED
    ):
        spec = policy.get("spec")
        if isinstance(spec, dict):
            if _depth(spec) > MAX_DEPTH:
                raise SkipError(f"a ClusterPolicy's spec nests more than {MAX_DEPTH} levels: not the GPU Operator's")
            found.update(flatten(spec))
    return found


def flatten(spec: dict[str, Any]) -> Readings:
    """`{"driver": {"version": "580.82.07", "enabled": true}}` is `driver.version: "580.82.07"`,
    `driver.enabled: "true"`. Iterative over maps: how deep a spec nests is the server's choice."""
    found: Readings = {}
    pending: list[tuple[str, object]] = [(key, value) for key, value in spec.items()]
    while pending:
        key, value = pending.pop()
        if isinstance(value, dict):
            pending += [(f"{key}.{inner}", nested) for inner, nested in value.items()]
        elif isinstance(value, list):
            if value:
                found[key] = go_json(value)
        elif isinstance(value, str | bool | int | float):
            found[key] = reading_text(value)
    return found


def go_json(value: object) -> str:
    """`value` as Go's json.Marshal writes it: compact, map keys sorted, `<>&` escaped, and a
    whole float written as an integer (Go decoded it as one)."""
    text = json.dumps(_whole_floats_as_ints(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return "".join(_GO_ESCAPES.get(character, character) for character in text)


def _depth(value: object) -> int:
    """How many maps and lists nest in `value`, counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            pending += [(child, depth + 1) for child in (node.values() if isinstance(node, dict) else node)]
    return deepest


def _whole_floats_as_ints(value: object) -> object:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_floats_as_ints(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole_floats_as_ints(item) for key, item in value.items()}
    return value


COLLECTOR = Collector("K8s", "policy", collect)
