"""`aicrc serve` on a real uvicorn (tests/server_process.py): its routes, the error envelope on every
refusal, and bad input (oversized, deep or aliased bodies, imports by path, unknown criteria, slow
clients, a thousand connections at once), after which it still serves everyone else.

Two servers: one with the default rate limit off and small body and time limits (`server`), one
with a rate limit, allowlists, a short compile deadline and few requests at a time (`limited`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from aicrc.cli import main
from tests.conftest import ROOT
from tests.server_process import Server, running

EKS_GB200 = {"service": "eks", "accelerator": "gb200", "intent": "training"}
CRITERIA_YAML = (
    "kind: RecipeCriteria\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  service: eks\n  accelerator: gb200\n  intent: training\n"
)
SNAPSHOT = ROOT / "tests" / "fixtures" / "snapshots" / "h200-ubuntu-24.04.yaml"
MAX_BODY = 65536
HEADER_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    limits = {
        "AICRC_SERVER_MAX_BODY_BYTES": str(MAX_BODY),
        "AICRC_SERVER_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "AICRC_SERVER_BODY_TIMEOUT": "1.5",
    }
    with running(limits) as started:
        yield started


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the error envelope, with this status and code, and the request id of its header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert set(document) <= {"code", "message", "details", "requestId", "timestamp", "retryable"}, document
    assert {"code", "message", "requestId", "timestamp", "retryable"} <= set(document), document
    assert document["code"] == code, document
    assert isinstance(document["message"], str) and document["message"]
    assert document["requestId"] == response.headers["x-request-id"] and uuid.UUID(document["requestId"])
    assert document["timestamp"].endswith("Z") and document["retryable"] is (status in (408, 429, 500, 503, 504))
    assert isinstance(document.get("details", {}), dict)
    return document


def codes(document: dict[str, Any]) -> list[str]:
    return [d["code"] for d in document["details"]["diagnostics"]]


# ---- the routes ----------------------------------------------------------------------------------


def test_every_response_has_a_request_id(api: httpx.Client) -> None:
    mine = str(uuid.uuid4())
    for path in ("/", "/health", "/ready", "/metrics", "/v1/recipe?service=eks", "/nowhere"):
        response = api.get(path, headers={"X-Request-Id": mine})
        assert response.headers["x-request-id"] == mine, path
        assert response.headers["x-api-version"] == "v1"
    replaced = api.get("/health", headers={"X-Request-Id": "not-a-uuid"}).headers["x-request-id"]
    assert replaced != "not-a-uuid" and uuid.UUID(replaced)
    assert api.get("/health").headers["x-request-id"] != api.get("/health").headers["x-request-id"]


def test_service_routes(api: httpx.Client) -> None:
    root = api.get("/").json()
    assert root["service"] == "aicrc" and {"/v1/recipe", "/v1/query", "/v1/bundle", "/v1/compile", "/v1/matrix"} <= set(root["routes"])
    assert api.get("/health").json()["status"] == "healthy"
    assert api.get("/ready").json()["status"] == "ready"
    assert api.get("/openapi.json").json()["info"]["title"] == "aicrc"


def test_recipe_by_query_and_by_body_agree(api: httpx.Client) -> None:
    by_query = api.get("/v1/recipe", params=EKS_GB200)
    assert by_query.status_code == 200 and by_query.headers["cache-control"] == "public, max-age=600"
    result = by_query.json()
    assert result["kind"] == "RecipeResult" and result["apiVersion"] == "aicr.nvidia.com/v1alpha1"
    assert result["criteria"] == {**EKS_GB200, "os": "any", "platform": "any"}  # not given: any, no default
    as_json = api.post("/v1/recipe", json=yaml.safe_load(CRITERIA_YAML))
    as_yaml = api.post("/v1/recipe", content=CRITERIA_YAML, headers={"content-type": "application/x-yaml"})
    assert as_json.json() == as_yaml.json() == result
    # case, spaces, the reference's `gpu` and its names for "no managed service"
    assert api.get("/v1/recipe", params={"service": " EKS ", "gpu": "GB200", "intent": "Training"}).json() == result
    assert api.get("/v1/recipe", params={"service": "self-managed"}).json()["criteria"]["service"] == "any"
    assert api.get("/v1/recipe", params={**EKS_GB200, "nodes": "4"}).json()["criteria"]["nodes"] == 4


def test_query_selects_from_the_hydrated_recipe(api: httpx.Client) -> None:
    params = {**EKS_GB200, "selector": "components.gpu-operator.values.driver.version"}
    version = api.get("/v1/query", params=params).json()
    assert isinstance(version, str) and version.count(".") == 2
    posted = api.post("/v1/query", json={"criteria": EKS_GB200, "selector": params["selector"]})
    assert posted.json() == version
    whole = api.get("/v1/query", params={**EKS_GB200, "selector": ""}).json()
    assert whole["components"]["gpu-operator"]["values"]["driver"]["version"] == version
    missing = envelope(api.get("/v1/query", params={**EKS_GB200, "selector": "components.gpu-operator.values.nope"}), 404, "NOT_FOUND")
    assert "available keys: " in missing["details"]["error"] and missing["details"]["selector"].endswith(".nope")
    envelope(api.get("/v1/query", params=EKS_GB200), 400, "INVALID_REQUEST")  # the selector is required
    envelope(api.post("/v1/query", json={"selector": ""}), 400, "INVALID_REQUEST")  # and so are criteria


def test_compile_explain_diff_matrix(api: httpx.Client) -> None:
    source = "recipe mine {\n    service = eks\n    accelerator = h100\n    intent = training\n}\n"
    compiled = api.post("/v1/compile", json={"source": source})
    assert compiled.status_code == 200, compiled.text
    assert compiled.json()["recipe"]["kind"] == "CompiledRecipe" and compiled.json()["recipe"]["metadata"]["name"] == "mine"
    as_aicr = api.post("/v1/compile", json={"recipe": "blackwell-eks-training", "format": "aicr"}).json()["recipe"]
    assert as_aicr["kind"] == "RecipeResult"
    by_criteria = api.post("/v1/compile", json={"criteria": {"service": "eks", "accelerator": "h100", "intent": "training"}}).json()
    assert by_criteria["recipe"]["metadata"]["criteria"]["platform"] == "kubeflow"  # aicrc's own routes: defaults apply
    explained = api.post("/v1/explain", json={"recipe": "blackwell-eks-training", "path": "gpu-operator.driver.version"}).json()
    assert explained["explanations"][0]["chain"][0]["layer"]
    envelope(api.post("/v1/explain", json={"recipe": "blackwell-eks-training", "path": "gpu-operator.nope"}), 404, "NOT_FOUND")
    different = api.post("/v1/diff", json={"a": {"recipe": "blackwell-eks-training"}, "b": {"recipe": "blackwell-eks-inference"}}).json()
    assert different["equal"] is False and different["componentsAdded"]
    same = api.post("/v1/diff", json={"a": {"recipe": "h100-eks-training"}, "b": {"recipe": "h100-eks-training"}}).json()
    assert same["equal"] is True
    table = api.get("/v1/matrix").json()
    assert table["dimensions"][0] == "service" and any(row["ok"] for row in table["combinations"])
    assert {row["subject"] for row in table["recipes"]} >= {"blackwell-eks-training"}


def test_validate_a_snapshot(api: httpx.Client) -> None:
    snapshot = yaml.safe_load(SNAPSHOT.read_text())
    for given in (snapshot, SNAPSHOT.read_text()):  # an object, or the YAML text
        report = api.post("/v1/validate", json={"recipe": "h100-eks-training", "snapshot": given})
        assert report.status_code == 200, report.text
        assert report.json()["results"] and {r["status"] for r in report.json()["results"]} <= {"passed", "failed", "skipped"}
    broken = envelope(api.post("/v1/validate", json={"recipe": "h100-eks-training", "snapshot": {"kind": "Nope"}}), 400, "INVALID_REQUEST")
    assert codes(broken)[0].startswith("E09")


def test_bundle_of_a_recipe_as_a_zip(api: httpx.Client) -> None:
    result = api.get("/v1/recipe", params=EKS_GB200).json()
    response = api.post("/v1/bundle", json=result)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="bundles.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert int(response.headers["x-bundle-files"]) == len(names) and {"deploy.sh", "checksums.txt", "recipe.yaml"} <= set(names)
    assert int(response.headers["x-bundle-size"]) == sum(info.file_size for info in archive.infolist())
    assert archive.getinfo("deploy.sh").external_attr >> 16 == 0o100755
    # a value the RecipeResult changes is bundled as changed; components it leaves out are refused
    result["componentRefs"][0]["overrides"]["fullnameOverride"] = "renamed"
    edited = zipfile.ZipFile(io.BytesIO(api.post("/v1/bundle", json=result).content))
    first = result["componentRefs"][0]["name"]
    assert yaml.safe_load(edited.read(f"{first}/values.yaml"))["fullnameOverride"] == "renamed"
    missing = envelope(api.post("/v1/bundle", json={**result, "componentRefs": result["componentRefs"][1:]}), 400, "INVALID_REQUEST")
    assert missing["details"]["missing"] == [first]
    argocd = api.post("/v1/bundle", params={"deployer": "argocd", "repo": "https://git.example.com/gpu.git"}, json=result)
    assert "app-of-apps.yaml" in zipfile.ZipFile(io.BytesIO(argocd.content)).namelist()


# ---- bad input: always the envelope --------------------------------------------------------------


BAD_REQUESTS = [
    ("GET", "/v1/recipe?service=windows", None, 400, "E0304"),
    ("GET", "/v1/recipe?acclerator=h100", None, 400, None),
    ("GET", "/v1/recipe?service=eks&service=gke", None, 400, None),
    ("GET", "/v1/recipe?nodes=-1", None, 400, None),
    ("GET", "/v1/recipe?nodes=many", None, 400, None),
    ("POST", "/v1/recipe", {"kind": "Nope", "apiVersion": "aicr.nvidia.com/v1alpha1", "spec": {}}, 400, None),
    ("POST", "/v1/recipe", {"kind": "RecipeCriteria", "apiVersion": "aicr.nvidia.com/v1alpha1"}, 400, None),
    ("POST", "/v1/recipe", {"kind": "RecipeCriteria", "apiVersion": "aicr.nvidia.com/v1alpha1", "spec": {"servce": "eks"}}, 400, "E0303"),
    ("POST", "/v1/recipe", {"kind": "RecipeCriteria", "apiVersion": "aicr.nvidia.com/v1alpha1", "spec": {"service": 5}}, 400, None),
    ("POST", "/v1/recipe", [], 400, None),
    ("POST", "/v1/query", {"criteria": {"os": "windows"}, "selector": ""}, 400, "E0304"),
    ("POST", "/v1/compile", {}, 400, None),
    ("POST", "/v1/compile", {"recipe": "blackwell-eks-training", "extra": 1}, 400, None),
    ("POST", "/v1/compile", {"recipe": "blackwell-eks-training", "strict": "yes"}, 400, None),
    ("POST", "/v1/compile", {"recipe": "no-such-recipe"}, 404, None),
    ("POST", "/v1/compile", {"source": "recipe r { service = eks"}, 400, "E0101"),
    ("POST", "/v1/compile", {"criteria": {"service": "eks"}, "set": ["no-equals"]}, 400, "E0601"),
    ("POST", "/v1/compile", {"criteria": {"flavour": "eks"}}, 400, "E0303"),
    ("POST", "/v1/diff", {"a": {"recipe": "h100-eks-training"}}, 400, None),
    ("POST", "/v1/bundle", {"kind": "RecipeResult", "componentRefs": []}, 400, None),
    ("POST", "/v1/bundle?deployer=kubectl", {"componentRefs": [{"name": "x"}]}, 400, None),
    ("POST", "/v1/bundle?system-node-toleration=bad", {"componentRefs": [{"name": "x"}]}, 400, None),
    ("POST", "/v1/bundle?workload-gate=a=b:NoSchedule", {"componentRefs": [{"name": "x"}]}, 400, None),
    ("POST", "/v1/bundle", {"criteria": {"service": "eks"}, "componentRefs": [{"name": "not-a-component"}]}, 400, None),
    ("GET", "/v1/matrix?x=1", None, 400, None),
    ("GET", "/v2/recipe", None, 404, None),
    ("DELETE", "/v1/recipe", None, 405, None),
    ("PUT", "/v1/compile", None, 405, None),
]


@pytest.mark.parametrize(("method", "path", "document", "status", "code"), BAD_REQUESTS, ids=[f"{m} {p}" for m, p, *_ in BAD_REQUESTS])
def test_bad_requests_get_the_envelope(api: httpx.Client, method: str, path: str, document: Any, status: int, code: str | None) -> None:
    response = api.request(method, path, json=document) if document is not None else api.request(method, path)
    found = envelope(response, status, {400: "INVALID_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}[status])
    if code is not None:
        assert code in codes(found), found
        assert found["details"]["error"]
    if status == 405:
        assert response.headers["allow"] and found["details"]["method"] == method


def test_a_bad_value_is_named_with_a_suggestion(api: httpx.Client) -> None:
    found = envelope(api.get("/v1/recipe", params={"accelerator": "gb20"}), 400, "INVALID_REQUEST")
    diagnostic = found["details"]["diagnostics"][0]
    assert diagnostic["code"] == "E0304" and "query parameter accelerator" in diagnostic["message"]
    assert "gb200" in diagnostic["help"]
    spec = envelope(api.post("/v1/recipe", json={**yaml.safe_load(CRITERIA_YAML), "spec": {"servce": "eks"}}), 400, "INVALID_REQUEST")
    assert "service" in spec["details"]["diagnostics"][0]["help"]


@pytest.mark.parametrize(
    "target", ["../../etc/passwd", "/etc/passwd", "./beside", "layers/../../../etc/passwd", "a//b", "c:\\\\windows\\\\x"]
)
def test_a_posted_recipe_imports_by_name_only(api: httpx.Client, target: str) -> None:
    source = f'# a recipe\nimport "{target}"\nrecipe r {{\n    service = eks\n}}\n'
    found = envelope(api.post("/v1/compile", json={"source": source, "name": "mine.aicr"}), 400, "INVALID_REQUEST")
    diagnostic = found["details"]["diagnostics"][0]
    assert diagnostic["code"] == "E0950" and diagnostic["location"]["file"] == "mine.aicr" and diagnostic["location"]["line"] == 2


def test_a_posted_recipe_imports_from_the_library(api: httpx.Client) -> None:
    source = 'import "features"\nrecipe r {\n    service = eks\n    accelerator = h100\n    intent = training\n}\n'
    assert api.post("/v1/compile", json={"source": source}).status_code == 200
    unknown = envelope(api.post("/v1/compile", json={"source": source.replace("features", "no-such-file")}), 400, "INVALID_REQUEST")
    assert codes(unknown) == ["E0201"]


def test_a_posted_recipe_imports_from_the_server_overlays(tmp_path: Path) -> None:
    overlay = tmp_path / "acme"
    overlay.mkdir()
    (overlay / "acme-features.aicr").write_text('feature acme-tuning {\n    set gpu-operator.driver.version = "580.1"\n}\n')
    source = (
        'import "acme-features"\nrecipe r {\n    service = eks\n    accelerator = h100\n    intent = training\n    enable acme-tuning\n}\n'
    )
    with running(args=["--overlay", str(overlay)]) as server, server.client() as client:
        compiled = client.post("/v1/compile", json={"source": source})
        assert compiled.status_code == 200, compiled.text
        gpu_operator = next(c for c in compiled.json()["recipe"]["components"] if c["name"] == "gpu-operator")
        assert gpu_operator["values"]["driver"]["version"] == "580.1"
        escaping = source.replace('"acme-features"', f'"{overlay}/acme-features"')
        assert codes(envelope(client.post("/v1/compile", json={"source": escaping}), 400, "INVALID_REQUEST")) == ["E0950"]


def test_hostile_bodies(api: httpx.Client) -> None:
    laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]\n" for n in range(9)
    )
    yaml_header = {"content-type": "application/x-yaml"}
    started = time.monotonic()
    found = envelope(api.post("/v1/recipe", content=laughs, headers=yaml_header), 400, "INVALID_REQUEST")
    assert "alias" in found["message"] and time.monotonic() - started < 5
    deep_json = '{"criteria": {"service": "eks"}, "selector": ' + "[" * 5000 + "]" * 5000 + "}"
    assert codes(envelope(api.post("/v1/query", content=deep_json), 400, "INVALID_REQUEST")) == ["E0106"]
    deep_yaml = "spec: " + "[" * 500 + "]" * 500 + "\n"
    assert codes(envelope(api.post("/v1/recipe", content=deep_yaml, headers=yaml_header), 400, "INVALID_REQUEST")) == ["E0106"]
    for content, problem in (
        ('{"a": 1, "a": 2}', "given twice"),
        ('{"a": NaN}', "not a JSON number"),
        (b"\xff\xfe{}", "not UTF-8"),
        ("", "empty"),
        ("{", "invalid JSON"),
    ):
        assert problem in envelope(api.post("/v1/compile", content=content), 400, "INVALID_REQUEST")["message"]
    assert (
        "number" in envelope(api.post("/v1/recipe", content="spec: {nodes: .inf}", headers=yaml_header), 400, "INVALID_REQUEST")["message"]
    )


def test_oversized_bodies_are_refused_before_they_are_read(server: Server, api: httpx.Client) -> None:
    envelope(api.post("/v1/compile", content=b"x" * (MAX_BODY + 1)), 413, "PAYLOAD_TOO_LARGE")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(MAX_BODY // 1024 + 2):
            yield b"x" * 1024

    envelope(api.post("/v1/compile", content=chunks()), 413, "PAYLOAD_TOO_LARGE")
    # a declared gigabyte: answered at once, the body never sent, the connection closed
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(b"POST /v1/compile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n")
        answer = _read_until_closed(raw)
    assert answer.startswith(b"HTTP/1.1 413 ") and b'"PAYLOAD_TOO_LARGE"' in answer and b"connection: close" in answer.lower()


def test_a_slow_client_is_closed_while_others_are_served(server: Server, api: httpx.Client) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=HEADER_TIMEOUT + 10) as slow:
        started = time.monotonic()
        slow.sendall(b"GET /v1/recipe HTTP/1.1\r\nHost: x\r\n")  # and never the rest of the headers
        while time.monotonic() - started < HEADER_TIMEOUT / 2:
            assert api.get("/health").status_code == 200
            time.sleep(0.1)
        slow.sendall(b"X-Slow: 1\r\n")  # still dribbling: no more time for it
        assert slow.recv(1024) == b""  # closed
        assert HEADER_TIMEOUT - 0.2 < time.monotonic() - started < HEADER_TIMEOUT + 5
    # a slow body: 408 with the envelope, then closed
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow_body:
        slow_body.sendall(b"POST /v1/compile HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        answer = _read_until_closed(slow_body)
    assert answer.startswith(b"HTTP/1.1 408 ") and b'"REQUEST_TIMEOUT"' in answer
    assert api.get("/health").status_code == 200


def test_a_request_that_is_not_http_gets_the_envelope(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = _read_until_closed(raw)
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request") and b"x-request-id: " in head
    assert json.loads(payload)["code"] == "INVALID_REQUEST"


def _read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_answers_are_memoized(api: httpx.Client) -> None:
    def hits() -> float:
        lines = api.get("/metrics").text.splitlines()
        return sum(float(line.split()[-1]) for line in lines if line.startswith("aicrc_cache_hits_total"))

    params = {"service": "aks", "accelerator": "h100", "intent": "inference"}
    first = api.get("/v1/recipe", params=params)
    before = hits()
    assert api.get("/v1/recipe", params={**params, "service": "AKS"}).content == first.content  # the same criteria, normalized
    assert hits() == before + 1
    again = api.get("/v1/recipe", params=params)  # the same request: answered before the routes
    assert again.content == first.content and hits() == before + 2
    assert (
        again.headers["cache-control"] == first.headers["cache-control"] and again.headers["x-request-id"] != first.headers["x-request-id"]
    )
    text = api.get("/metrics").text
    for metric in (
        "aicrc_http_requests_total",
        "aicrc_http_request_duration_seconds_bucket",
        "aicrc_compiles_total",
        "aicrc_cache_misses_total",
    ):
        assert metric in text, metric
    assert 'route="/v1/recipe"' in text and 'route="/v2/recipe"' not in text  # made-up paths share the label `other`


# ---- the limits --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited() -> Iterator[Server]:
    settings = {
        "AICRC_SERVER_RATE_LIMIT": "20",
        "AICRC_SERVER_RATE_BURST": "10",
        "AICRC_SERVER_COMPILE_TIMEOUT": "1",
        "AICRC_SERVER_MAX_IN_FLIGHT": "32",
        "AICRC_SERVER_MAX_CONNECTIONS": "1100",
        "AICRC_ALLOWED_SERVICE": "eks,aks",
        "AICR_ALLOWED_ACCELERATORS": "h100,l40",  # the reference's name for the same setting
    }
    with running(settings) as started:
        yield started


def _from(address: str, server: Server) -> httpx.Client:
    """A client whose requests come from `address` (any 127.x.y.z reaches the loopback server)."""
    return httpx.Client(base_url=server.url, timeout=30, transport=httpx.HTTPTransport(local_address=address))


def test_rate_limit_per_client(limited: Server) -> None:
    with _from("127.0.0.5", limited) as greedy, _from("127.0.0.6", limited) as other:
        answers = [greedy.get("/health") for _ in range(3)] + [greedy.get("/") for _ in range(60)]
        assert all(a.status_code == 200 for a in answers[:3])  # probes are never limited
        refused = [a for a in answers if a.status_code == 429]
        assert refused and answers[3].status_code == 200
        found = envelope(refused[0], 429, "RATE_LIMIT_EXCEEDED")
        assert found["details"] == {"limit": 20.0, "burst": 10}
        assert int(refused[0].headers["retry-after"]) >= 1 and refused[0].headers["x-ratelimit-remaining"] == "0"
        served = other.get("/")
        assert served.status_code == 200 and int(served.headers["x-ratelimit-limit"]) == 20


def test_allowlists(limited: Server) -> None:
    with _from("127.0.0.7", limited) as client:
        refused = envelope(client.get("/v1/recipe", params={"service": "gke"}), 400, "INVALID_REQUEST")
        assert refused["details"]["allowed"] == ["aks", "eks"] and refused["details"]["requested"] == "gke"
        assert client.get("/v1/recipe", params={"service": "eks", "accelerator": "l40"}).status_code == 200  # l40: the alias of l40s
        assert client.get("/v1/recipe").status_code == 200  # any is always allowed
        envelope(client.get("/v1/recipe", params={"accelerator": "gb200"}), 400, "INVALID_REQUEST")
        envelope(client.post("/v1/compile", json={"recipe": "h100-gke-training"}), 400, "INVALID_REQUEST")


def test_a_thousand_connections_at_once(limited: Server) -> None:
    """Each connection sends a request; every answer is a success or a refusal with the envelope (a
    429 for the flood's own address, a 503 when too many are being answered), and a client from
    another address is served throughout."""

    async def one(path: str, local: str) -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", limited.port, local_addr=(local, 0))
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return int(answer.split(b" ", 2)[1]), answer.split(b"\r\n\r\n", 1)[1]

    async def flood() -> tuple[list[tuple[int, bytes]], list[float]]:
        served: list[float] = []

        async def bystander() -> None:
            for _ in range(5):
                started = time.monotonic()
                status, _ = await one("/v1/recipe?service=aks", "127.0.0.9")
                if status == 503:  # the process was answering its most: retryable, and retried as Retry-After says
                    await asyncio.sleep(1)
                    status, _ = await one("/v1/recipe?service=aks", "127.0.0.9")
                assert status == 200
                served.append(time.monotonic() - started)
                await asyncio.sleep(0.05)

        crowd = asyncio.gather(*(one("/v1/recipe?service=eks", "127.0.0.10") for _ in range(1000)))
        _, answers = await asyncio.gather(bystander(), crowd)
        return answers, served

    with _from("127.0.0.9", limited) as warm:  # the answers memoized: the flood costs lookups, not compiles
        for service in ("eks", "aks"):
            assert _until(lambda service=service: warm.get("/v1/recipe", params={"service": service}).status_code == 200)
    started = time.monotonic()
    answers, served = asyncio.run(asyncio.wait_for(flood(), 60))
    elapsed = time.monotonic() - started
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {200, 429, 503} and statuses.count(429) > 0, sorted(set(statuses))
    assert statuses.count(200) <= 10 + 20 * elapsed + 1  # the flood's address got its burst and its rate, no more
    for status, payload in answers:
        if status != 200:
            document = json.loads(payload)
            assert document["code"] in ("RATE_LIMIT_EXCEEDED", "SERVICE_UNAVAILABLE") and document["retryable"] is True
    assert len(served) == 5 and max(served) < 10
    with _from("127.0.0.11", limited) as after:
        assert after.get("/v1/recipe", params={"service": "eks"}).status_code == 200


def test_connections_past_the_most_a_process_holds_are_closed(limited: Server) -> None:
    opened = [socket.create_connection(("127.0.0.1", limited.port), timeout=10, source_address=("127.0.0.14", 0)) for _ in range(1150)]
    try:
        for sock in opened:
            sock.setblocking(False)
        closed: set[int] = set()
        deadline = time.monotonic() + 8  # before the header timeout (10 s) closes the others too
        while len(closed) < 50 and time.monotonic() < deadline:
            time.sleep(0.2)
            for index, sock in enumerate(opened):
                with contextlib.suppress(BlockingIOError):  # raised by one still open, waiting for a request
                    if index not in closed and sock.recv(1) == b"":
                        closed.add(index)
        assert 50 <= len(closed) <= 60, len(closed)  # the ones past 1100 (a few more if other clients still hold connections)
    finally:
        for sock in opened:
            sock.close()
    with _from("127.0.0.15", limited) as client:
        assert _until(lambda: client.get("/health").status_code == 200)


def test_too_many_requests_at_once(limited: Server) -> None:
    """Thirty-two requests still sending their bodies fill the server; the next is refused at once,
    and served once they are gone."""
    senders = []
    try:
        for n in range(32):  # each from an address of its own, within its rate
            sender = socket.create_connection(("127.0.0.1", limited.port), timeout=10, source_address=(f"127.0.1.{n + 1}", 0))
            sender.sendall(b"POST /v1/compile HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            senders.append(sender)
        time.sleep(0.5)
        with _from("127.0.0.12", limited) as client:
            refused = client.get("/v1/recipe", params={"service": "eks"})
            found = envelope(refused, 503, "SERVICE_UNAVAILABLE")
            assert refused.headers["retry-after"] == "1" and found["details"]["maxInFlight"] == 32
            assert client.get("/health").status_code == 200  # probes still answer
    finally:
        for sender in senders:
            sender.close()
    with _from("127.0.0.12", limited) as client:
        assert _until(lambda: client.get("/v1/recipe", params={"service": "eks"}).status_code == 200)


def test_compile_deadline(limited: Server) -> None:
    """A recipe of twelve thousand settings takes seconds to compile, past the 1 s deadline."""
    settings = "\n".join(f'    set gpu-operator.key{n} = "value {n}"' for n in range(12_000))
    slow = {"source": f"recipe slow {{\n    service = eks\n{settings}\n}}\n"}
    with _from("127.0.0.8", limited) as client:
        found = envelope(client.post("/v1/compile", json=slow), 504, "TIMEOUT")
        assert found["details"]["timeout"] == 1.0
        assert client.get("/health").status_code == 200
        # the work under way was finished and kept: the retry the 504 invites finds it
        assert _until(lambda: client.post("/v1/compile", json=slow).status_code == 200)


def _until(condition: Any, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


# ---- the command line ----------------------------------------------------------------------------


def test_command_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["serve", "--help"]) == 0
    assert "/v1/recipe" in capsys.readouterr().out
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err
    assert main(["serve", "--workers", "0"]) == 2
    monkeypatch.setenv("AICRC_SERVER_RATE_LIMIT", "fast")
    assert main(["serve", "--port", "0"]) == 2
    assert "AICRC_SERVER_RATE_LIMIT='fast': expected a number" in capsys.readouterr().err
    monkeypatch.delenv("AICRC_SERVER_RATE_LIMIT")
    monkeypatch.setenv("AICRC_ALLOWED_SERVICE", "eks,windows")
    assert main(["serve", "--port", "0"]) == 2
    assert "windows is not a value of service" in capsys.readouterr().err
    monkeypatch.delenv("AICRC_ALLOWED_SERVICE")
    assert main(["serve", "--port", "0", "--overlay", str(tmp_path / "missing")]) == 1
    assert "E0104" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 2
    assert "cannot listen on 127.0.0.1:" in capsys.readouterr().err
