"""The reference system's (AICR v0.11) data files, read strictly: RecipeMetadata overlays, the
ComponentRegistry and the ValidatorCatalog, with every field the reference's v0.11.1 types have
(and the registry's `manifest`, which its data uses but its code does not read). Unlike the
reference, an unknown field is an error (a typo such as `overides:` would otherwise be silently
ignored), and every error points at its line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from aicrc import diagnostics as diag
from aicrc.compiler.load.files import decode_utf8
from aicrc.compiler.syntax.parser import check_size
from aicrc.interop import yaml_v3
from aicrc.source import SourceFile, Span


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criteria(_Strict):
    service: str | None = None
    accelerator: str | None = None
    intent: str | None = None
    os: str | None = None
    platform: str | None = None
    nodes: int | None = None

    def named(self) -> dict[str, str]:
        """The dimensions this criteria pins (`any` and empty pin nothing)."""
        fields = {"service": self.service, "accelerator": self.accelerator, "intent": self.intent, "os": self.os, "platform": self.platform}
        return {name: value for name, value in fields.items() if value not in (None, "", "any")}


class Constraint(_Strict):
    name: str
    value: str
    severity: Literal["error", "warning"] | None = None
    remediation: str | None = None
    unit: str | None = None


class ExpectedResource(_Strict):
    kind: str
    name: str
    namespace: str | None = None


class ComponentRef(_Strict):
    """A component in an overlay; a later overlay's non-empty fields replace (see aicr_merge)."""

    name: str
    namespace: str | None = None
    chart: str | None = None
    type: Literal["Helm", "Kustomize", ""] | None = None
    source: str | None = None
    version: str | None = None
    tag: str | None = None
    valuesFile: str | None = None  # noqa: N815 - the reference's field names
    overrides: dict[str, Any] | None = None
    patches: list[str] | None = None
    dependencyRefs: list[str] | None = None  # noqa: N815
    manifestFiles: list[str] | None = None  # noqa: N815
    path: str | None = None  # Kustomize: the kustomization's folder in `source`
    cleanup: bool | None = None  # uninstalled after validation (validation infrastructure)
    expectedResources: list[ExpectedResource] | None = None  # noqa: N815 - checked after deploying
    healthCheckAsserts: str | None = None  # noqa: N815 - Chainsaw asserts, inline


class NodeSelection(_Strict):
    """Which nodes a validation phase runs on."""

    selector: dict[str, str] | None = None
    maxNodes: int | None = None  # noqa: N815
    excludeNodes: list[str] | None = None  # noqa: N815


class Phase(_Strict):
    timeout: str | None = None
    constraints: list[Constraint] | None = None
    checks: list[str] | None = None  # validator names, from validators/catalog.yaml
    nodeSelection: NodeSelection | None = None  # noqa: N815
    infrastructure: str | None = None


class Validation(_Strict):
    readiness: Phase | None = None
    deployment: Phase | None = None
    performance: Phase | None = None
    conformance: Phase | None = None


class Spec(_Strict):
    base: str | None = None
    criteria: Criteria | None = None
    constraints: list[Constraint] | None = None
    componentRefs: list[ComponentRef] | None = None  # noqa: N815
    validation: Validation | None = None


class Name(_Strict):
    name: str


class RecipeMetadata(_Strict):
    kind: Literal["RecipeMetadata"]
    apiVersion: str  # noqa: N815
    metadata: Name
    spec: Spec


class HelmDefaults(_Strict):
    """What a componentRef of type Helm takes from the registry when it leaves a field empty."""

    defaultRepository: str | None = None  # noqa: N815
    defaultChart: str | None = None  # noqa: N815 - `repo/chart`: the part after the last `/` is the chart
    defaultVersion: str | None = None  # noqa: N815
    defaultNamespace: str | None = None  # noqa: N815


class KustomizeDefaults(_Strict):
    defaultSource: str | None = None  # noqa: N815
    defaultPath: str | None = None  # noqa: N815
    defaultTag: str | None = None  # noqa: N815


class ManifestDefaults(_Strict):
    """Written in the reference's registry for manifest-only components, but not read by it (its
    v0.11.1 ComponentConfig has no such field): such a component gets no namespace there."""

    defaultNamespace: str | None = None  # noqa: N815


class SchedulingPaths(_Strict):
    """Value paths where the reference's bundler writes node selectors, tolerations and taints given
    on its command line; with no such flags (as here) they change nothing."""

    nodeSelectorPaths: list[str] | None = None  # noqa: N815
    tolerationPaths: list[str] | None = None  # noqa: N815
    taintPaths: list[str] | None = None  # noqa: N815
    taintStrPaths: list[str] | None = None  # noqa: N815


class NodeScheduling(_Strict):
    system: SchedulingPaths | None = None
    accelerated: SchedulingPaths | None = None
    nodeCountPaths: list[str] | None = None  # noqa: N815


class WorkloadScheduling(_Strict):
    workloadSelectorPaths: list[str] | None = None  # noqa: N815


class PodScheduling(_Strict):
    workload: WorkloadScheduling | None = None


class ComponentValidation(_Strict):
    """A bundle-time warning the reference prints when a command-line flag is missing."""

    function: str
    severity: Literal["warning", "error"]
    conditions: dict[str, list[str]] | None = None
    message: str | None = None


class HealthCheck(_Strict):
    assertFile: str | None = None  # noqa: N815 - a Chainsaw assert file in the data folder


class ComponentConfig(_Strict):
    name: str
    displayName: str  # noqa: N815
    valueOverrideKeys: list[str] | None = None  # noqa: N815 - other names for it in `aicr bundle --set NAME:path=value`
    helm: HelmDefaults | None = None
    kustomize: KustomizeDefaults | None = None
    manifest: ManifestDefaults | None = None
    nodeScheduling: NodeScheduling | None = None  # noqa: N815
    podScheduling: PodScheduling | None = None  # noqa: N815
    validations: list[ComponentValidation] | None = None
    healthCheck: HealthCheck | None = None  # noqa: N815


class Registry(_Strict):
    kind: Literal["ComponentRegistry"]
    apiVersion: str  # noqa: N815
    components: list[ComponentConfig]


class CatalogMetadata(_Strict):
    name: str
    version: str | None = None


class EnvVar(_Strict):
    name: str
    value: str


class Resources(_Strict):
    cpu: str | None = None
    memory: str | None = None


class Validator(_Strict):
    name: str
    phase: Literal["deployment", "performance", "conformance"]
    description: str | None = None
    image: str
    timeout: str | None = None
    args: list[str] | None = None
    env: list[EnvVar] | None = None
    resources: Resources | None = None


class ValidatorCatalog(_Strict):
    """validators/catalog.yaml: the checks a validation phase may name."""

    kind: Literal["ValidatorCatalog"]
    apiVersion: str  # noqa: N815
    metadata: CatalogMetadata
    validators: list[Validator]


# The reference reads its data folder as UTF-8 (Go's yaml.v3 refuses anything else).
NOT_UTF8_HELP = "the reference's data files are UTF-8; re-save the file as UTF-8"


def read_yaml(path: Path, display: str) -> tuple[SourceFile, Any, yaml.Node | None]:
    """A YAML file's text, data (as the reference's yaml.v3 reads it) and node tree; size,
    encoding and syntax problems, and a key given twice, as diagnostics."""
    try:
        check_size(display, path.stat().st_size)  # before reading: a 50 MB file is refused unread
        data_bytes = path.read_bytes()
    except FileNotFoundError:
        raise diag.error("E0703", f"no such file: {display}") from None
    except OSError as failure:
        raise diag.error("E0703", f"cannot read {display}: {failure.strerror}") from None
    text = decode_utf8(data_bytes, display, help=NOT_UTF8_HELP)
    source = SourceFile(display, text, path)
    loader = yaml_v3.Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as failure:
        mark = getattr(failure, "problem_mark", None)
        span = Span(display, mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2) if mark else Span(display, 1, 1, 1, 1)
        problem = getattr(failure, "problem", None) or str(failure)
        raise diag.AicrcError([diag.Diagnostic("E0701", f"{display} is not valid YAML: {problem}", span)], {display: source}) from None
    except RecursionError:
        raise diag.error("E0106", f"{display} nests too deeply to read", Span(display, 1, 1, 1, 1)) from None
    finally:
        loader.dispose()
    return source, data, node


def read_model(path: Path, display: str, model: type[_Strict]) -> tuple[Any, SourceFile, yaml.Node | None]:
    source, data, node = read_yaml(path, display)
    try:
        return model.model_validate(data), source, node
    except ValidationError as failure:
        problems = []
        for error in failure.errors():
            where = ".".join(str(part) for part in error["loc"]) or "the document"
            message = "unknown field" if error["type"] == "extra_forbidden" else error["msg"].lower()
            problems.append(
                diag.Diagnostic(
                    "E0701",
                    f"{model.__name__} {where}: {message}",
                    node_span(node, error["loc"], display),
                    help=_field_help(model, error),
                )
            )
        raise diag.AicrcError(problems, {display: source}) from None


def _field_help(model: type[_Strict], error: Any) -> str | None:
    if error["type"] == "extra_forbidden":
        return "the reference ignores fields it does not know; aicrc refuses them so a misspelt field is not lost"
    if error["loc"][:1] == ("kind",):
        return f"this file is not a {model.__name__}"
    return None


def node_span(node: yaml.Node | None, location: tuple[Any, ...], display: str) -> Span:
    """The span of the YAML node at a pydantic error location (the key, for an unknown field)."""
    current = node
    for part in location:
        if isinstance(current, yaml.MappingNode):
            match = next(
                ((key, value) for key, value in current.value if isinstance(key, yaml.ScalarNode) and key.value == str(part)), None
            )
            if match is None:
                break
            key, value = match
            current = value if part != location[-1] else key
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and part < len(current.value):
            current = current.value[part]
        else:
            break
    if current is None:
        return Span(display, 1, 1, 1, 1)
    start, end = current.start_mark, current.end_mark
    if end.line != start.line:
        end = start
    return Span(display, start.line + 1, start.column + 1, end.line + 1, max(end.column, start.column + 1) + 1)
