"""The compiled recipe's schema, as pydantic models. `aicrc schema` prints their JSON Schema.

Bundlers and validators read a compiled recipe back through `CompiledRecipe.model_validate`, so
they can work from the compiled file alone, without the sources it came from.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Metadata(_Strict):
    name: str = Field(description="The recipe's name.")
    criteria: dict[str, str] = Field(description="Dimension values after aliases and defaults.")
    layers: list[str] = Field(description="Applied layers, lowest precedence first.")
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="sha256 over every input of the compile.")
    compiler: str = Field(description="The aicrc version that compiled it.")


class Constraint(_Strict):
    name: str = Field(description="What is measured: Type.Subtype.Key (K8s.server.version) for the cluster, or a check's measurement.")
    operator: Literal["==", "!=", ">=", ">", "<=", "<"]
    value: Any
    layer: str = Field(description="The layer (or recipe) whose `require` this is.")


class Chart(_Strict):
    repository: str = Field(description="Helm repository URL, or an oci:// registry path.")
    name: str
    version: str


class Manifest(_Strict):
    name: str = Field(description="The manifest file, as shown in diagnostics.")
    content: str = Field(description="The file's YAML text.")


class Component(_Strict):
    name: str
    kind: Literal["helm", "manifests"]
    wave: int = Field(ge=0, description="Install wave: every dependency is in an earlier wave.")
    chart: Chart | None = None
    namespace: str
    needs: list[str]
    values: dict[str, Any] = Field(description="Helm values, keys sorted.")
    manifests: list[Manifest]


class CompiledRecipe(_Strict):
    api_version: Literal["aicrc/v1alpha1"] = Field(alias="apiVersion")
    kind: Literal["CompiledRecipe"]
    metadata: Metadata
    constraints: list[Constraint]
    checks: dict[str, list[str]] = Field(description="Validation checks by phase.")
    check_constraints: dict[str, list[Constraint]] = Field(
        alias="checkConstraints", description="By validation phase: what its checks must measure (NCCL bandwidth, an operator's version)."
    )
    deployment_order: list[str] = Field(alias="deploymentOrder")
    components: list[Component] = Field(description="In deployment order.")

    def component(self, name: str) -> Component:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(name)


def json_schema() -> dict[str, Any]:
    schema = CompiledRecipe.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
