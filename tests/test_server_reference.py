"""A client of the reference's API (AICR v0.11.1's `aicrd`, described by
tests/reference/aicr-v0.11.1/api/server.yaml) gets the same answers from `aicrc serve`:

- every path, parameter, response header and field the reference's API document names exists in
  aicrc's (where the document and the reference's own answers disagree, the answers win: SPEC_FIXES);
- for every recorded leaf, GET /v1/recipe and GET /v1/query with the leaf's criteria answer what the
  reference resolved (tests/reference_compare.py, with the deviations tests/reference/deviations.yaml
  declares), and POST gives what GET gives;
- POST /v1/bundle of those answers carries the files of the reference's recorded bundles;
- with AICRD_BIN naming the reference's server, its live answers are the recorded ones, and its
  error envelope has the shape of aicrc's.
"""

from __future__ import annotations

import copy
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import yaml

from tests.reference_compare import REFERENCE, compare, leaves, read_deviations
from tests.server_process import Server, running, running_reference

SPEC = REFERENCE / "api" / "server.yaml"
LEAVES = leaves()
BUNDLED = ["gb200-eks-ubuntu-training-kubeflow", "gb200-eks-ubuntu-inference-dynamo"]
REPOSITORY = "https://git.example.com/platform/gpu-stack.git"


def _kind_is_recipe_result(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["RecipeResponse"]["properties"]["kind"]["enum"] = ["RecipeResult"]


def _constraints_are_a_list(spec: dict[str, Any]) -> None:
    constraint = {"type": "object", "required": ["name", "value"], "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}
    spec["components"]["schemas"]["RecipeResponse"]["properties"]["constraints"] = {"type": "array", "items": constraint}


def _no_order_or_repository(spec: dict[str, Any]) -> None:
    properties = spec["components"]["schemas"]["RecipeResponse"]["properties"]["componentRefs"]["items"]["properties"]
    del properties["order"], properties["repository"]


def _no_created(spec: dict[str, Any]) -> None:
    del spec["components"]["schemas"]["RecipeResponse"]["properties"]["metadata"]["properties"]["created"]


# Where the reference's API document says what its server does not do, with the evidence; applied
# to a copy of the document, which stays as the reference wrote it.
SPEC_FIXES: list[tuple[str, str, Callable[[dict[str, Any]], None]]] = [
    (
        "RecipeResponse.kind is `RecipeResult`, not `Recipe`",
        "recipe/*.yaml (kind: RecipeResult); pkg/recipe RecipeResult",
        _kind_is_recipe_result,
    ),
    (
        "RecipeResponse.constraints is a list of {name, value}, not a map",
        "recipe/*.yaml (constraints: - name: ...)",
        _constraints_are_a_list,
    ),
    (
        "componentRefs carry no `order` or `repository` (the chart's repository is `source`; the order is deploymentOrder)",
        "recipe/*.yaml componentRefs; pkg/recipe ComponentRef",
        _no_order_or_repository,
    ),
    ("metadata has no `created`", "recipe/*.yaml metadata (version, appliedOverlays)", _no_created),
]


def reference_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    fixed = copy.deepcopy(spec)
    for _, _, fix in SPEC_FIXES:
        fix(fixed)
    return fixed


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running() as started:
        yield started


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def ours(api: httpx.Client) -> dict[str, Any]:
    document: dict[str, Any] = api.get("/openapi.json").json()
    return document


# ---- the API document --------------------------------------------------------------------------


def _resolve(schema: Any, spec: dict[str, Any]) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        target: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def fields(schema: Any, spec: dict[str, Any], prefix: str = "", depth: int = 0) -> set[str]:
    """Every field a schema names, as dotted paths (`componentRefs[].name`), through refs and unions."""
    schema = _resolve(schema, spec)
    if not isinstance(schema, dict) or depth > 8:
        return set()
    found: set[str] = set()
    for union in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(union, []):
            found |= fields(member, spec, prefix, depth + 1)
    for name, member in (schema.get("properties") or {}).items():
        found.add(prefix + name)
        found |= fields(member, spec, f"{prefix}{name}.", depth + 1)
    if "items" in schema:
        found |= fields(schema["items"], spec, prefix.removesuffix(".") + "[].", depth + 1)
    return found


def _body_schema(operation: dict[str, Any]) -> Any:
    content = (operation.get("requestBody") or {}).get("content") or {}
    return content.get("application/json", {}).get("schema")


def test_every_path_parameter_header_and_field_of_the_reference_exists_here(ours: dict[str, Any]) -> None:
    theirs = reference_spec()
    missing = []
    for path, operations in theirs["paths"].items():
        for method, operation in operations.items():
            mine = ours["paths"].get(path, {}).get(method)
            where = f"{method.upper()} {path}"
            if mine is None:
                missing.append(where)
                continue
            names = {(p["in"], p["name"]) for p in mine.get("parameters", [])}
            missing += [f"{where} parameter {p['name']}" for p in operation.get("parameters", []) if (p["in"], p["name"]) not in names]
            if _body_schema(operation) is not None:
                lacking = fields(_body_schema(operation), theirs) - fields(_body_schema(mine), ours)
                missing += [f"{where} body field {name}" for name in sorted(lacking)]
            for status, answer in operation["responses"].items():
                my_answer = mine["responses"].get(str(status))
                if my_answer is None:
                    if str(status) in ("200", "400", "404"):  # the answers a client handles; 429/500/503 are the server's to give or not
                        missing.append(f"{where} response {status}")
                    continue
                missing += [f"{where} {status} header {h}" for h in answer.get("headers", {}) if h not in my_answer.get("headers", {})]
                for media, content in (answer.get("content") or {}).items():
                    my_content = (my_answer.get("content") or {}).get(media)
                    if my_content is None:
                        missing.append(f"{where} {status} {media}")
                        continue
                    lacking = fields(content.get("schema"), theirs) - fields(my_content.get("schema"), ours)
                    missing += [f"{where} {status} field {name}" for name in sorted(lacking)]
    assert not missing, "named by the reference's API document, absent from aicrc's:\n" + "\n".join(missing)


def test_the_fixes_to_the_reference_document_are_needed() -> None:
    """Each fix changes the document (so none is stale), and says why with evidence."""
    for reason, evidence, fix in SPEC_FIXES:
        spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
        before = copy.deepcopy(spec)
        fix(spec)
        assert spec != before and len(reason) > 20 and evidence, reason
    recorded = yaml.safe_load((REFERENCE / "recipe" / f"{BUNDLED[0]}.yaml").read_text())
    assert recorded["kind"] == "RecipeResult" and isinstance(recorded["constraints"], list)
    assert "created" not in recorded["metadata"] and not {"order", "repository"} & set(recorded["componentRefs"][0])


# ---- the same answers, leaf by leaf ------------------------------------------------------------------


def _asked(criteria: dict[str, str]) -> dict[str, str]:
    """The leaf's flags as a reference client sends them: only the dimensions it names."""
    return {name: value for name, value in criteria.items() if value != "any"}


def document_from_api(result: dict[str, Any], hydrated: dict[str, Any]) -> dict[str, Any]:
    """What tests/reference_compare.py compares, read back from the two answers a reference client
    gets: components from the RecipeResult (a component with no chart has no version there) with
    the hydrated values; constraints and checks as the RecipeResult writes them."""

    def constraint(entry: dict[str, Any]) -> dict[str, Any]:
        return {"name": entry["name"], "operator": "==", "value": entry["value"]}  # the value is already `OP VALUE` text

    components = []
    for ref in result["componentRefs"]:
        chart = {"name": ref["chart"], "repository": ref["source"], "version": ref["version"]} if "version" in ref else None
        components.append({"name": ref["name"], "chart": chart, "values": hydrated["components"][ref["name"]].get("values", {})})
    validation = result.get("validation") or {}
    return {
        "components": components,
        "constraints": [constraint(c) for c in result["constraints"]],
        "checks": {phase: body["checks"] for phase, body in validation.items()},
        "checkConstraints": {phase: [constraint(c) for c in body.get("constraints", [])] for phase, body in validation.items()},
    }


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_a_reference_client_gets_the_same_answers(api: httpx.Client, leaf: str) -> None:
    criteria = LEAVES[leaf]
    recorded = yaml.safe_load((REFERENCE / "recipe" / f"{leaf}.yaml").read_text(encoding="utf-8"))
    recorded_query = yaml.safe_load((REFERENCE / "query" / f"{leaf}.json").read_text(encoding="utf-8"))
    result = api.get("/v1/recipe", params=_asked(criteria)).json()
    hydrated = api.get("/v1/query", params={**_asked(criteria), "selector": ""}).json()
    # the documents have the reference's shape
    assert set(result) == set(recorded) - ({"validation"} - set(result)), leaf
    assert {k: v for k, v in result["criteria"].items() if k in recorded["criteria"]} == recorded["criteria"]
    assert set(hydrated) == set(recorded_query) and hydrated["metadata"].keys() == recorded_query["metadata"].keys()
    assert {k: v for k, v in hydrated["criteria"].items() if k in recorded_query["criteria"]} == recorded_query["criteria"]
    for name, component in hydrated["components"].items():
        assert {"name", "type", "source", "namespace"} <= set(component) <= set().union(*map(set, recorded_query["components"].values()))
        assert component.get("values", {}) == next(r for r in result["componentRefs"] if r["name"] == name).get("overrides", {})
    assert hydrated["deploymentOrder"] == result["deploymentOrder"]
    # and the reference's values, components, charts, constraints and checks, but for declared deviations
    deviations = read_deviations()
    undeclared = [str(d) for d in compare(leaf, document_from_api(result, hydrated)) if not any(v.covers(d) for v in deviations)]
    assert not undeclared, "differences from the reference that deviations.yaml does not declare:\n" + "\n".join(undeclared)
    # the same criteria as a body
    body = {"kind": "RecipeCriteria", "apiVersion": "aicr.nvidia.com/v1alpha1", "metadata": {"name": leaf}, "spec": _asked(criteria)}
    assert api.post("/v1/recipe", json=body).json() == result
    assert api.post("/v1/query", json={"criteria": _asked(criteria), "selector": ""}).json() == hydrated


@pytest.mark.parametrize("leaf", BUNDLED)
@pytest.mark.parametrize("deployer", ["helm", "argocd"])
def test_the_bundle_carries_the_files_of_the_reference_bundle(api: httpx.Client, leaf: str, deployer: str) -> None:
    """The reference's recorded bundle of the leaf: each of its files has its counterpart in ours
    (tests/test_bundle.py and test_bundle_argocd.py compare their contents). Its
    skyhook-customizations is a local chart with empty values, ours a manifests component; its
    Argo CD Applications are COMPONENT/application.yaml, ours applications/COMPONENT.yaml."""
    result = api.get("/v1/recipe", params=_asked(LEAVES[leaf])).json()
    params = {"deployer": deployer} | ({"repo": REPOSITORY} if deployer == "argocd" else {})
    response = api.post("/v1/bundle", params=params, json=result)
    assert response.status_code == 200, response.text
    names = set(zipfile.ZipFile(io.BytesIO(response.content)).namelist())
    manifests_only = {ref["name"] for ref in result["componentRefs"] if "version" not in ref}
    reference = REFERENCE / "bundle" / f"{leaf}-{deployer}"
    for path in sorted(p.relative_to(reference).as_posix() for p in reference.rglob("*") if p.is_file()):
        folder, _, name = path.partition("/")
        if (folder in manifests_only and name in ("values.yaml", "README.md")) or name.startswith("manifests/"):
            assert any(n.startswith(f"{folder}/") for n in names), path  # the component is there, as manifests
        elif name == "application.yaml":
            assert f"applications/{folder}.yaml" in names, path
        else:
            assert path in names, path


# ---- side by side with the reference's own server ------------------------------------------------


@pytest.mark.skipif(not os.environ.get("AICRD_BIN"), reason="AICRD_BIN does not name the reference's aicrd")
def test_the_recordings_are_what_the_reference_server_answers(api: httpx.Client) -> None:
    """Each leaf is asked of a newly started aicrd: a long-running one answers some leaves after
    others differently (h100-aks-ubuntu-inference gains a deployment phase once
    h100-aks-ubuntu-inference-dynamo was asked), so its first answer is the one its CLI records."""
    for leaf, criteria in LEAVES.items():
        with running_reference(os.environ["AICRD_BIN"]) as url, httpx.Client(base_url=url, timeout=30) as reference:
            live = reference.get("/v1/recipe", params=_asked(criteria)).json()
            assert live == yaml.safe_load((REFERENCE / "recipe" / f"{leaf}.yaml").read_text()), leaf
            query = reference.get("/v1/query", params={**_asked(criteria), "selector": ""}).json()
            assert query == yaml.safe_load((REFERENCE / "query" / f"{leaf}.json").read_text()), leaf
    with running_reference(os.environ["AICRD_BIN"]) as url, httpx.Client(base_url=url, timeout=30) as reference:
        for path in ("/v1/recipe?service=windows", "/v1/query?selector=nope&service=eks"):
            theirs, mine = reference.get(path), api.get(path)
            assert theirs.status_code == mine.status_code and set(theirs.json()) == set(mine.json()), path
            assert theirs.json()["code"] == mine.json()["code"]
