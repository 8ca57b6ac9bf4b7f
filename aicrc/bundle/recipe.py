"""The compiled recipe as a bundle reads it: typed, checked for what a bundle needs, and built from
the compiled document alone (plain data, what `aicrc compile` writes).

The compiler guarantees the document's shape; a document read back from a file has been validated
against the pydantic model (`compiled_file.py`). What a bundle needs beyond that is checked here:
names that can be Helm releases, folders and namespaces (E0804), and an order that installs every
component after what it needs (E0803: a hand-edited file can break it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aicrc import diagnostics as diag
from aicrc.records import Record
from aicrc.source import Span

# Where a problem is in the compiled document: keys and list indexes from its root.
DocumentPath = tuple[str | int, ...]
# Finds the place in the file a document was read from, when there is one.
Locate = Callable[[DocumentPath], Span | None]

# A Helm release name (at most 53 characters) is a DNS label; a component's name is also its folder.
RELEASE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?")
NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# Chart fields are shell-quoted where they are used; they still must not be empty or hold spaces.
CHART_FIELD = re.compile(r"[^\s\x00-\x1f\x7f]+")
# The recipe's name titles READMEs and stands in the scripts' comments: one line, no surprises.
RECIPE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
ONE_LINE = re.compile(r"[^\x00-\x1f\x7f]*")


class Chart(Record):
    repository: str
    name: str
    version: str

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")

    @property
    def reference(self) -> str:
        """What Helm installs: the full `oci://` reference, or the chart's name in `--repo`."""
        return f"{self.repository.rstrip('/')}/{self.name}" if self.is_oci else self.name


class Manifest(Record):
    source: str  # its name in the compiled recipe: where it came from
    file_name: str  # its file name in the bundle (unique within the component)
    content: str


class Component(Record):
    name: str
    kind: str  # helm | manifests
    wave: int
    chart: Chart | None
    namespace: str
    needs: tuple[str, ...]
    values: Mapping[str, Any]
    manifests: tuple[Manifest, ...]


class Constraint(Record):
    name: str
    operator: str
    value: Any
    layer: str


class Recipe(Record):
    name: str
    criteria: Mapping[str, str]
    layers: tuple[str, ...]
    digest: str
    compiler: str
    constraints: tuple[Constraint, ...]
    checks: Mapping[str, tuple[str, ...]]
    components: tuple[Component, ...]  # in deployment order
    document: Mapping[str, Any]  # the compiled recipe itself, written to the bundle as recipe.yaml

    def needed_by(self, name: str) -> list[str]:
        return [component.name for component in self.components if name in component.needs]

    @property
    def waves(self) -> list[list[Component]]:
        """Components by install wave; within a wave, in deployment order."""
        waves: list[list[Component]] = [[] for _ in range(max((c.wave for c in self.components), default=-1) + 1)]
        for component in self.components:
            waves[component.wave].append(component)
        return waves


def from_document(document: Mapping[str, Any], locate: Locate | None = None) -> Recipe:
    """The Recipe of a compiled document whose shape is valid; E0803/E0804 for what a bundle cannot use."""
    problems = _Problems(locate or (lambda _: None))
    metadata = document["metadata"]
    if not RECIPE_NAME.fullmatch(metadata["name"]):
        problems.at(
            ("metadata", "name"),
            "E0804",
            f"recipe name {metadata['name']!r} cannot title a bundle",
            "a recipe's name is letters, digits, `-`, `_` and `.`",
        )
    if not ONE_LINE.fullmatch(metadata["compiler"]):
        problems.at(("metadata", "compiler"), "E0803", "metadata.compiler holds control characters", "compile the recipe again")
    components = tuple(_component(raw, index, problems) for index, raw in enumerate(document["components"]))
    _check_order(document, components, problems)
    problems.raise_if_any()
    return Recipe(
        name=metadata["name"],
        criteria=metadata["criteria"],
        layers=tuple(metadata["layers"]),
        digest=metadata["digest"],
        compiler=metadata["compiler"],
        constraints=tuple(Constraint(c["name"], c["operator"], c["value"], c["layer"]) for c in document["constraints"]),
        checks={phase: tuple(names) for phase, names in document["checks"].items()},
        components=components,
        document=document,
    )


class _Problems(diag.Collector):
    def __init__(self, locate: Locate) -> None:
        super().__init__()
        self.locate = locate

    def at(self, path: DocumentPath, code: str, message: str, help: str) -> None:
        self.add(code, message, self.locate(path), help=help)


def _component(raw: Mapping[str, Any], index: int, problems: _Problems) -> Component:
    where: DocumentPath = ("components", index)
    name, namespace = raw["name"], raw["namespace"]
    if not RELEASE_NAME.fullmatch(name):
        problems.at(
            (*where, "name"),
            "E0804",
            f"component `{name}` cannot name a Helm release or a bundle folder",
            "rename the component: at most 53 lowercase letters, digits and `-`, starting and ending with a letter or digit",
        )
    if not NAMESPACE.fullmatch(namespace):
        problems.at(
            (*where, "namespace"),
            "E0804",
            f"component `{name}`: `{namespace}` cannot name a Kubernetes namespace",
            "a namespace is at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit",
        )
    chart = _chart(raw, where, problems)
    manifests = tuple(
        Manifest(m["name"], file_name, m["content"])
        for m, file_name in zip(raw["manifests"], manifest_file_names(raw["manifests"]), strict=True)
    )
    if raw["kind"] == "manifests" and not manifests:
        problems.at(
            (*where, "manifests"),
            "E0803",
            f"component `{name}` is of kind manifests but has none",
            "a manifests component installs its manifests; compile the recipe again",
        )
    return Component(name, raw["kind"], raw["wave"], chart, namespace, tuple(raw["needs"]), raw["values"], manifests)


def _chart(raw: Mapping[str, Any], where: DocumentPath, problems: _Problems) -> Chart | None:
    given = raw.get("chart")
    if given is None:
        if raw["kind"] == "helm":
            problems.at(where, "E0803", f"component `{raw['name']}` is of kind helm but has no chart", "compile the recipe again")
        return None
    for field in ("repository", "name", "version"):
        if not CHART_FIELD.fullmatch(given[field]):
            problems.at(
                (*where, "chart", field),
                "E0804",
                f"component `{raw['name']}`: chart {field} {given[field]!r} is empty or holds spaces or control characters",
                "a chart's repository, name and version are single words (a URL, a name, a version)",
            )
    return Chart(given["repository"], given["name"], given["version"])


def _check_order(document: Mapping[str, Any], components: tuple[Component, ...], problems: _Problems) -> None:
    """Each component after what it needs, one wave above the highest of them: `deploy.sh` installs
    in this order, so a compiled file edited out of it must not reach a bundle."""
    help = "compile the recipe again rather than editing the compiled file"
    names = [component.name for component in components]
    if list(document["deploymentOrder"]) != names:
        problems.at(("deploymentOrder",), "E0803", "deploymentOrder is not the order of the components", help)
    waves: dict[str, int] = {}
    for index, component in enumerate(components):
        where: DocumentPath = ("components", index)
        if component.name in waves:
            problems.at((*where, "name"), "E0803", f"component `{component.name}` appears twice", help)
        for position, need in enumerate(component.needs):
            if need not in waves:
                missing = "is not in the recipe" if need not in names else "comes after it"
                problems.at((*where, "needs", position), "E0803", f"component `{component.name}` needs `{need}`, which {missing}", help)
        expected = 1 + max((waves.get(need, 0) for need in component.needs), default=-1)
        if component.wave != expected and all(need in waves for need in component.needs):
            problems.at(
                (*where, "wave"),
                "E0803",
                f"component `{component.name}` is in wave {component.wave}, but what it needs puts it in {expected}",
                help,
            )
        waves[component.name] = component.wave


def manifest_file_names(manifests: Iterable[Mapping[str, Any]]) -> list[str]:
    """A file name for each manifest, from the last part of its name: safe characters only, a
    `.yaml` suffix, and `-2`, `-3` ... where two manifests of a component would share one."""
    taken: set[str] = set()
    names = []
    for manifest in manifests:
        base = re.sub(r"[^A-Za-z0-9._-]", "-", re.split(r"[/\\]", manifest["name"])[-1]).lstrip(".") or "manifest"
        stem, suffix = (base[: -len(ext)], ext) if (ext := _yaml_suffix(base)) else (base, ".yaml")
        name, number = f"{stem}{suffix}", 1
        while name in taken:
            number += 1
            name = f"{stem}-{number}{suffix}"
        taken.add(name)
        names.append(name)
    return names


def _yaml_suffix(name: str) -> str:
    return next((ext for ext in (".yaml", ".yml") if name.endswith(ext) and len(name) > len(ext)), "")
