"""Node placement at bundle time: node selectors, tolerations and a node count written into each
component's values at the paths the component declares (placement_paths.yaml, from the reference
system's registry).

The flags read as the reference's do: a selector is `KEY=VALUE`, a toleration `KEY[=VALUE]:EFFECT`
(with a value it is `operator: Equal`, without one `Exists`), `--nodes 0` means unset. What the
flags do not give is not written: unlike the reference, which tolerates every taint by default,
a bundle without placement flags carries the recipe's values unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from aicrc.bundle.recipe import Component, Recipe
from aicrc.records import Record

PATHS_FILE = Path(__file__).with_name("placement_paths.yaml")
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class Toleration(Record):
    key: str
    value: str | None
    effect: str

    def as_values(self) -> dict[str, str]:
        """The toleration as a pod spec holds it; keys in the order the reference writes them."""
        if self.value is None:
            return {"key": self.key, "operator": "Exists", "effect": self.effect}
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}


class Placement(Record):
    system_selector: Mapping[str, str]
    system_tolerations: tuple[Toleration, ...]
    accelerated_selector: Mapping[str, str]
    accelerated_tolerations: tuple[Toleration, ...]
    nodes: int  # 0: unset

    @property
    def empty(self) -> bool:
        return not (
            self.system_selector or self.system_tolerations or self.accelerated_selector or self.accelerated_tolerations or self.nodes
        )


def parse_selectors(flag: str, texts: Iterable[str]) -> dict[str, str]:
    """`KEY=VALUE` each; a key given twice keeps its last value, as the reference does."""
    selector: dict[str, str] = {}
    for text in texts:
        key, equals, value = text.partition("=")
        if not (equals and key):
            raise ValueError(f"{flag} {text!r}: expected KEY=VALUE (e.g. nodeGroup=gpu-nodes)")
        selector[key] = value
    return selector


def parse_tolerations(flag: str, texts: Iterable[str]) -> tuple[Toleration, ...]:
    tolerations = []
    for text in texts:
        head, colon, effect = text.rpartition(":")
        key, equals, value = head.partition("=")
        if not (colon and key) or ":" in head:
            raise ValueError(f"{flag} {text!r}: expected KEY[=VALUE]:EFFECT (e.g. nvidia.com/gpu=present:NoSchedule)")
        if effect not in EFFECTS:
            raise ValueError(f"{flag} {text!r}: the effect is one of {', '.join(EFFECTS)}")
        tolerations.append(Toleration(key, value if equals and value else None, effect))
    return tuple(tolerations)


def apply(recipe: Recipe, placement: Placement) -> Recipe:
    """The recipe with placement written into the values of the components that declare paths."""
    if placement.empty:
        return recipe
    paths = placement_paths()
    components = tuple(_place(component, paths.get(component.name, {}), placement) for component in recipe.components)
    placed: Recipe = recipe.replace(components=components)
    return placed


@cache
def placement_paths() -> dict[str, dict[str, Any]]:
    import yaml

    loaded: dict[str, dict[str, Any]] = yaml.safe_load(PATHS_FILE.read_text())
    return loaded


def _place(component: Component, declared: Mapping[str, Any], placement: Placement) -> Component:
    if not declared:
        return component
    import copy

    values = copy.deepcopy(dict(component.values))
    # System first, then accelerated: a path declared for both (aws-ebs-csi-driver's node.tolerations)
    # takes the accelerated setting, as in the reference.
    for role, selector, tolerations in (
        ("system", placement.system_selector, placement.system_tolerations),
        ("accelerated", placement.accelerated_selector, placement.accelerated_tolerations),
    ):
        if selector:
            for path in declared.get(role, {}).get("nodeSelector", []):
                _set(values, path, dict(selector))
        if tolerations:
            for path in declared.get(role, {}).get("tolerations", []):
                _set(values, path, [toleration.as_values() for toleration in tolerations])
    if placement.nodes:
        for path in declared.get("nodeCount", []):
            _set(values, path, placement.nodes)
    placed: Component = component.replace(values=values)
    return placed


def _set(values: dict[str, Any], dotted: str, value: Any) -> None:
    """Set a dotted path, making the maps on the way; like the reference, a non-map on the way is replaced."""
    *parents, last = dotted.split(".")
    node = values
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[last] = value
