"""The reference system's merge rules, as its v0.11 code applies them, for a set of overlays.

`aicrc import` uses this to check what it wrote: for each overlay's own criteria, the recipe
aicrc compiles from the imported files is compared with what these rules give, and every
difference is reported. The rules, as read from the reference's v0.11.1 source (its recipe
merging and its component-ref merge):

- an overlay applies when every dimension it pins equals the query's; its `base:` chain is applied
  first, root to leaf, each overlay once; overlays apply in order of how many dimensions they pin
  (ties by name; the reference itself leaves ties to map order);
- component references merge field by field: a later non-empty scalar replaces (`valuesFile`
  too), `overrides` merge shallowly (a top-level key replaces the whole earlier subtree),
  `dependencyRefs` replace, `manifestFiles` append without duplicates;
- constraints replace by name; a validation phase replaces the earlier phase whole;
- Helm values are the component's `components/NAME/values.yaml`, deep-merged with the last
  `valuesFile`, then with the merged overrides (`enabled` included: it is a chart value too);
  `enabled: false` leaves a component undeployed;
- a field the merged reference leaves empty takes the registry's Helm default (source, version,
  namespace, and the chart: `defaultChart` after its last `/`);
- the deployment order is a topological sort taking the alphabetically first ready component.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aicrc.interop.aicr_model import ComponentConfig, ComponentRef, Constraint, Phase, RecipeMetadata

PHASES = ("readiness", "deployment", "performance", "conformance")


@dataclass
class Result:
    applied: list[str]
    components: dict[str, ComponentRef]
    values: dict[str, dict[str, Any]]
    order: list[str]
    constraints: dict[str, Constraint]
    validation: dict[str, Phase] = field(default_factory=dict)

    @property
    def deployed(self) -> list[str]:
        return [name for name in self.order if (self.components[name].overrides or {}).get("enabled") is not False]


def matches(overlay: RecipeMetadata, query: Mapping[str, str]) -> bool:
    criteria = overlay.spec.criteria
    if criteria is None:
        return False
    return all(query.get(name) == value for name, value in criteria.named().items())


def chain(name: str, overlays: Mapping[str, RecipeMetadata]) -> list[str]:
    """Root to leaf, the base overlay excluded (the caller checked that chains end and do not loop)."""
    names = []
    while name != "base":
        names.append(name)
        name = overlays[name].spec.base or "base"
    return names[::-1]


def resolve(
    overlays: Mapping[str, RecipeMetadata],
    query: Mapping[str, str],
    read_values: Callable[[str], dict[str, Any] | None],
    registry: Mapping[str, ComponentConfig] | None = None,
) -> Result:
    """The recipe the reference builds for `query`. `read_values(path)` returns a values file's
    content (None when it does not exist)."""
    base = overlays["base"]
    components = {ref.name: ref for ref in base.spec.componentRefs or ()}
    constraints = {c.name: c for c in base.spec.constraints or ()}
    validation = _phases(base)
    applied = ["base"]
    candidates = sorted((o for o in overlays.values() if o.metadata.name != "base" and matches(o, query)), key=specificity)
    for candidate in candidates:
        for name in chain(candidate.metadata.name, overlays):
            if name in applied:
                continue
            applied.append(name)
            spec = overlays[name].spec
            for ref in spec.componentRefs or ():
                components[ref.name] = merge_ref(components[ref.name], ref) if ref.name in components else ref
            constraints.update({c.name: c for c in spec.constraints or ()})
            validation.update(_phases(overlays[name]))
    components = {name: with_registry_defaults(ref, (registry or {}).get(name)) for name, ref in components.items()}
    values = {name: helm_values(ref, read_values) for name, ref in components.items()}
    return Result(applied, components, values, topological_order(components), constraints, validation)


def specificity(overlay: RecipeMetadata) -> tuple[int, str]:
    criteria = overlay.spec.criteria
    return (len(criteria.named()) if criteria else 0, overlay.metadata.name)


def _phases(overlay: RecipeMetadata) -> dict[str, Phase]:
    validation = overlay.spec.validation
    if validation is None:
        return {}
    return {name: phase for name in PHASES if (phase := getattr(validation, name)) is not None}


def merge_ref(old: ComponentRef, new: ComponentRef) -> ComponentRef:
    changes: dict[str, Any] = {}
    for name in ("namespace", "chart", "type", "source", "version", "tag", "valuesFile", "path", "healthCheckAsserts"):
        if getattr(new, name):
            changes[name] = getattr(new, name)
    if new.overrides:
        changes["overrides"] = {**(old.overrides or {}), **new.overrides}  # shallow: top-level keys replace
    for name in ("patches", "dependencyRefs", "expectedResources"):
        if getattr(new, name):
            changes[name] = getattr(new, name)
    if new.manifestFiles:
        changes["manifestFiles"] = [*(old.manifestFiles or []), *(f for f in new.manifestFiles if f not in (old.manifestFiles or []))]
    if new.cleanup:
        changes["cleanup"] = True
    return old.model_copy(update=changes)


def with_registry_defaults(ref: ComponentRef, config: ComponentConfig | None) -> ComponentRef:
    """The reference's last step: what a Helm reference leaves empty, its registry entry fills."""
    kustomize = config is not None and config.kustomize is not None and config.kustomize.defaultSource
    helm = config.helm if config is not None else None
    if helm is None or (ref.type or ("Kustomize" if kustomize else "Helm")) != "Helm":
        return ref
    chart = (helm.defaultChart or "").rsplit("/", 1)[-1]
    defaults = {"source": helm.defaultRepository, "version": helm.defaultVersion, "namespace": helm.defaultNamespace, "chart": chart}
    return ref.model_copy(update={field: value for field, value in defaults.items() if value and not getattr(ref, field)})


def base_values_file(component: str) -> str:
    return f"components/{component}/values.yaml"


def helm_values(ref: ComponentRef, read_values: Callable[[str], dict[str, Any] | None]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if ref.valuesFile:
        if ref.valuesFile != base_values_file(ref.name):
            values = copy.deepcopy(read_values(base_values_file(ref.name)) or {})
        deep_merge(values, read_values(ref.valuesFile) or {})
    # `enabled` in overrides is the reference's switch (whether to deploy), yet it still passes it
    # to the chart with the other overrides
    deep_merge(values, copy.deepcopy(ref.overrides or {}))
    return values


def deep_merge(target: dict[str, Any], source: Mapping[str, Any]) -> dict[str, Any]:
    """Maps merge key by key; anything else (lists, scalars, null) replaces."""
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def topological_order(components: Mapping[str, ComponentRef]) -> list[str]:
    waiting = {name: set(ref.dependencyRefs or ()) & set(components) for name, ref in components.items()}
    ready = [name for name, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    order = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for other, needs in waiting.items():
            if name in needs:
                needs.discard(name)
                if not needs:
                    heapq.heappush(ready, other)
    return order
