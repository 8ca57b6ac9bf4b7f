"""schemathesis drives `aicrc serve` (a real uvicorn) from two API documents: aicrc's own
(/openapi.json) and the reference's (tests/reference/aicr-v0.11.1/api/server.yaml, with the fixes
tests/test_server_reference.py declares). Valid and invalid requests alike: no answer is a 5xx, and
every answer has a status, a content type, headers and a body its document allows.

The number of examples per operation is small (EXAMPLES) so the whole runs in seconds; the checks
are the ones that hold of any conforming server, whatever its document leaves open.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server_process import Server, running
from tests.test_server_reference import reference_spec

EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure is reproducible, and CI time fixed
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running({"AICRC_SERVER_COMPILE_TIMEOUT": "30"}) as started:
        yield started


def _configured(schema: schemathesis.BaseSchema) -> schemathesis.BaseSchema:
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES)
    return schema


def _aicrc_document() -> dict[str, Any]:
    """aicrc's document as the server publishes it (built here too: schemathesis's pytest plugin
    needs the document when it collects the tests, before any server runs)."""
    from aicrc.api import load_library
    from aicrc.server.app import create_app
    from aicrc.server.settings import Settings

    return create_app(Settings(), load_library(use_env=False)).app.openapi()


AICRC_DOCUMENT = _aicrc_document()
aicrc_api = _configured(schemathesis.openapi.from_dict(AICRC_DOCUMENT))
reference_api = _configured(schemathesis.openapi.from_dict(reference_spec()))


def test_the_server_publishes_the_document_tested(server: Server) -> None:
    assert httpx.get(f"{server.url}/openapi.json").json() == json.loads(json.dumps(AICRC_DOCUMENT))


@aicrc_api.parametrize()
@SETTINGS
def test_aicrc_document(case: schemathesis.Case, server: Server) -> None:
    case.call_and_validate(base_url=server.url, checks=CHECKS, timeout=60)


@reference_api.parametrize()
@SETTINGS
def test_reference_document(case: schemathesis.Case, server: Server) -> None:
    case.call_and_validate(base_url=server.url, checks=CHECKS, timeout=60)
