"""The reference system's data folder, read and checked: overlays, their base chains, the
registry, and the values files and manifests they name (which must stay inside the folder).

Stricter than the reference on purpose: what it would silently ignore or resolve at random (an
unknown field, a loop in `base:`, a path outside the folder) is an error here, located in the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aicrc import diagnostics as diag
from aicrc.compiler.load.files import decode_utf8
from aicrc.compiler.syntax.parser import check_size
from aicrc.interop.aicr_model import (
    NOT_UTF8_HELP,
    ComponentConfig,
    RecipeMetadata,
    Registry,
    ValidatorCatalog,
    node_span,
    read_model,
    read_yaml,
)
from aicrc.source import SourceFile, Span

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*")  # the names aicrc can give a layer


@dataclass
class AicrData:
    root: Path  # the folder that valuesFile and manifestFiles paths are relative to
    overlays: dict[str, RecipeMetadata] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # overlay name -> file as shown
    registry: dict[str, ComponentConfig] = field(default_factory=dict)
    registry_node: Any = None  # composed registry.yaml, for positions
    registry_file: str = "registry.yaml"
    validators: dict[str, str] | None = None  # check name -> phase, from validators/catalog.yaml
    sources: dict[str, SourceFile] = field(default_factory=dict)
    nodes: dict[str, Any] = field(default_factory=dict)  # overlay name -> composed YAML, for positions
    values: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # values files, read once
    manifests: dict[str, tuple[str, str]] = field(default_factory=dict)  # manifest -> (text, file as shown)
    templates: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # manifest -> parsed template
    rendered: dict[Any, str | None] = field(default_factory=dict)  # (manifest, inputs) -> rendering

    @property
    def standalone(self) -> bool:
        return "base" in self.overlays


def read_data(paths: Sequence[str], data_root: str | None = None) -> AicrData:
    files = _overlay_files(paths)
    root = Path(data_root) if data_root else _data_root([path for path, _ in files] or [Path(p) for p in paths])
    data = AicrData(root)
    problems = diag.Collector()
    for path, display in files:
        try:
            overlay, source, node = read_model(path, display, RecipeMetadata)
        except diag.AicrcError as failure:
            problems.extend(failure)
            data.sources.update(failure.sources)
            continue
        data.sources[display] = source
        name = overlay.metadata.name
        if name in data.overlays:
            problems.add(
                "E0203",
                f"overlay `{name}` is defined twice",
                node_span(node, ("metadata", "name"), display),
                notes=(f"first in {data.files[name]}",),
                help="overlay names (metadata.name) must be unique",
            )
            continue
        if not NAME.fullmatch(name):
            problems.add(
                "E0701",
                f"overlay name `{name}` cannot be a layer name",
                node_span(node, ("metadata", "name"), display),
                help="use letters, digits, `_` and inner `-`",
            )
            continue
        data.overlays[name], data.files[name], data.nodes[name] = overlay, display, node
    registry = root / "registry.yaml"
    if registry.is_file():
        try:
            model, source, data.registry_node = read_model(registry, _show(registry), Registry)
            data.registry_file = source.display
            data.sources[source.display] = source
            for index, config in enumerate(model.components):
                if config.name in data.registry:
                    span = node_span(data.registry_node, ("components", index, "name"), data.registry_file)
                    problems.add("E0203", f"component `{config.name}` is in the registry twice", span)
                data.registry.setdefault(config.name, config)
        except diag.AicrcError as failure:
            problems.extend(failure)
            data.sources.update(failure.sources)
    catalog = root / "validators" / "catalog.yaml"
    if catalog.is_file():
        try:
            validators, source, _ = read_model(catalog, _show(catalog), ValidatorCatalog)
            data.validators = {v.name: v.phase for v in validators.validators}
            data.sources[source.display] = source
        except diag.AicrcError as failure:
            problems.extend(failure)
            data.sources.update(failure.sources)
    problems.raise_if_any(data.sources)
    if not data.overlays:
        raise diag.error(
            "E0701", f"no RecipeMetadata overlays in {', '.join(paths)}", help="name overlay files, or a folder holding overlays/"
        )
    _check_structure(data)
    return data


def _show(path: Path) -> str:
    return os.path.relpath(path) if not path.is_absolute() or str(path).startswith(os.getcwd()) else path.as_posix()


def _overlay_files(paths: Sequence[str]) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            overlays = path / "overlays" if (path / "overlays").is_dir() else path
            for file in sorted(overlays.rglob("*.yaml")):
                relative = file.relative_to(path).parts
                if "components" in relative or "checks" in relative or file.name == "registry.yaml":
                    continue
                found.append((file, _show(file)))
        elif path.is_file():
            found.append((path, _show(path)))
        else:
            raise diag.error("E0703", f"no such file or folder: {given}")
    return found


def _data_root(files: Sequence[Path]) -> Path:
    """The nearest folder above the first overlay that holds `components/`, `registry.yaml` or
    `overlays/` (the reference's data folder); else the overlay's own folder."""
    start = files[0].resolve()
    for folder in [start, *start.parents] if start.is_dir() else start.parents:
        if any((folder / marker).exists() for marker in ("components", "registry.yaml", "overlays")):
            return folder
    return start.parent


def where(data: AicrData, overlay: str, *location: Any) -> Span:
    """The span of a field of an overlay's spec, for diagnostics."""
    return node_span(data.nodes.get(overlay), ("spec", *location), data.files.get(overlay, overlay))


def _check_structure(data: AicrData) -> None:
    """Base chains end, criteria only grow along them, and nothing the translation cannot express."""
    problems = diag.Collector()
    for name, overlay in data.overlays.items():
        if name == "base":
            if overlay.spec.base or overlay.spec.criteria:
                problems.add(
                    "E0702", "the base overlay has a base or criteria of its own", where(data, name), help="base applies to everything"
                )
            continue
        seen, current = [name], overlay.spec.base or "base"
        while current != "base" and current in data.overlays and current not in seen:
            seen.append(current)
            current = data.overlays[current].spec.base or "base"
        if current in seen:
            problems.add(
                "E0702",
                f"base chain of `{name}` loops: {' -> '.join([*seen, current])}",
                where(data, name, "base"),
                help="every chain must end at `base`",
            )
            continue
        if current != "base" and data.standalone:
            problems.add("E0702", f"overlay `{name}` is based on `{current}`, which is not among the inputs", where(data, name, "base"))
            continue
        criteria = overlay.spec.criteria
        if name != "base" and criteria is None:
            problems.add(
                "E0704",
                f"overlay `{name}` has no criteria",
                where(data, name),
                help="aicrc selects layers by their criteria; give it the criteria its descendants share",
            )
            continue
        if criteria is not None and criteria.nodes:
            problems.add(
                "E0704", f"overlay `{name}` pins `nodes`, which aicrc has no dimension for", where(data, name, "criteria", "nodes")
            )
        parent = data.overlays.get(overlay.spec.base or "base")
        if parent is not None and parent.metadata.name != "base" and criteria is not None and parent.spec.criteria is not None:
            mine, theirs = criteria.named(), parent.spec.criteria.named()
            if any(mine.get(k) != v for k, v in theirs.items()) or len(mine) <= len(theirs):
                problems.add(
                    "E0704",
                    f"overlay `{name}` must pin everything its base `{parent.metadata.name}` pins, and more",
                    where(data, name, "criteria"),
                    notes=(f"`{parent.metadata.name}` pins {theirs}; `{name}` pins {mine}",),
                    help="aicrc orders layers by how many dimensions they pin, so a child must pin more than its base",
                )
        for index, ref in enumerate(overlay.spec.componentRefs or ()):
            if ref.type == "Kustomize":
                problems.add(
                    "E0704",
                    f"component `{ref.name}` is a Kustomize component",
                    where(data, name, "componentRefs", index, "type"),
                    help="aicrc deploys Helm charts and plain manifests",
                )
            for file in [ref.valuesFile, *(ref.manifestFiles or ())]:
                if file:
                    _inside(data, file, where(data, name, "componentRefs", index), problems)
        _check_checks(data, name, problems)
    for index, config in enumerate(data.registry.values()):  # (names are unique: the indexes are the file's)
        if config.healthCheck is not None and config.healthCheck.assertFile:
            span = node_span(data.registry_node, ("components", index, "healthCheck", "assertFile"), data.registry_file)
            _inside(data, config.healthCheck.assertFile, span, problems)
    problems.raise_if_any(data.sources)


def _check_checks(data: AicrData, overlay: str, problems: diag.Collector) -> None:
    """Each check a validation phase names is a validator of that phase in the catalog (the
    reference runs a phase's validators that the recipe names, so a misspelt one never runs)."""
    validation = data.overlays[overlay].spec.validation
    if data.validators is None or validation is None:
        return
    for phase in ("readiness", "deployment", "performance", "conformance"):
        settings = getattr(validation, phase)
        for index, check in enumerate((settings.checks or ()) if settings is not None else ()):
            span = where(data, overlay, "validation", phase, "checks", index)
            known = data.validators.get(check)
            if known is None:
                hint = diag.did_you_mean(check, [n for n, p in data.validators.items() if p == phase])
                problems.add("E0701", f"no validator `{check}` in validators/catalog.yaml", span, help=hint)
            elif known != phase:
                problems.add("E0701", f"`{check}` is a {known} check, named under {phase}", span, help=f"move it to `{known}`")


def _inside(data: AicrData, relative: str, span: Span, problems: diag.Collector) -> Path | None:
    """A path from an overlay, which must stay inside the data folder and exist."""
    candidate = Path(relative)
    resolved = (data.root / candidate).resolve()
    if candidate.is_absolute() or not resolved.is_relative_to(data.root.resolve()):
        problems.add(
            "E0703",
            f"`{relative}` escapes the data folder {data.root}",
            span,
            help="valuesFile and manifestFiles are paths inside the data folder, such as components/NAME/values.yaml",
        )
        return None
    if not resolved.is_file():
        problems.add("E0703", f"`{relative}` does not exist in {data.root}", span)
        return None
    return resolved


def values_file(data: AicrData, relative: str) -> dict[str, Any] | None:
    """A values file's content (None when absent); read once, errors raised."""
    if relative not in data.values:
        path = (data.root / relative).resolve()
        if not path.is_file():
            data.values[relative] = None
        else:
            source, content, _ = read_yaml(path, _show(path))
            data.sources[source.display] = source
            if content is not None and not isinstance(content, dict):
                raise diag.error("E0701", f"{source.display} is not a map of Helm values", Span(source.display, 1, 1, 1, 1))
            data.values[relative] = content or {}
    return data.values[relative]


def manifest_text(data: AicrData, relative: str) -> tuple[str, str]:
    """A manifest's text and its name as shown; read once (its existence was checked)."""
    if relative not in data.manifests:
        path = (data.root / relative).resolve()
        display = _show(path)
        try:
            check_size(display, path.stat().st_size)
            content = path.read_bytes()
        except OSError as failure:
            raise diag.error("E0703", f"cannot read {display}: {failure.strerror}") from None
        text = decode_utf8(content, display, help=NOT_UTF8_HELP)
        data.sources[display] = SourceFile(display, text, path)
        data.manifests[relative] = (text, display)
    return data.manifests[relative]
