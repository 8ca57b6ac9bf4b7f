"""The language server end to end: a real LSP client (pytest-lsp, on pygls) starts `aicrc lsp` over
stdio, opens the flagship recipe, breaks it, hovers values and jumps to definitions."""

from __future__ import annotations

import os
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.conftest import ROOT

RECIPE = ROOT / "recipes" / "blackwell-eks-training.aicr"
RECIPE_URI = RECIPE.as_uri()
LAYER = ROOT / "stdlib" / "layers" / "eks.aicr"


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "aicrc", "lsp"],
        server_env={**os.environ, "AICRC_NO_CACHE": "1"},
    )
)
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=ROOT.as_uri()))
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, path, text: str | None = None) -> str:  # type: ignore[no-untyped-def]
    uri = path.as_uri()
    document = types.TextDocumentItem(
        uri=uri, language_id="aicr", version=1, text=path.read_text(encoding="utf-8") if text is None else text
    )
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=document))
    return uri


def _change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def _at(text: str, needle: str, offset: int = 0) -> types.Position:
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return types.Position(line=line, character=index - (text.rfind("\n", 0, index) + 1))


@pytest.mark.asyncio
async def test_open_break_fix_hover_and_jump(client: LanguageClient) -> None:
    text = RECIPE.read_text(encoding="utf-8")
    uri = _open(client, RECIPE)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []

    broken = text.replace("accelerator = gb200", "accelerator = gb2000")
    _change(client, uri, broken, 2)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    [problem] = client.diagnostics[uri]
    assert problem.code == "E0304" and "gb2000" in problem.message and "did you mean `gb200`" in problem.message
    assert problem.range.start == _at(broken, "accelerator = gb2000")

    edited = text.replace("intent = training", 'intent = training\n    set gpu-operator.driver.version = "580.1"')
    _change(client, uri, edited, 3)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []

    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=_at(edited, "driver.version", 8))
    )
    assert hover is not None
    value = hover.contents.value  # type: ignore[union-attr]
    assert 'gpu-operator.driver.version = "580.1"' in value
    assert 'overrode  "580.105.08" from component gpu-operator' in value

    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=_at(edited, "gpu-operator.driver", 2))
    )
    assert hover is not None and "chart `gpu-operator` version `v25.10.1`" in hover.contents.value  # type: ignore[union-attr]

    location = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=_at(edited, "gpu-operator.driver", 2))
    )
    assert isinstance(location, types.Location)
    assert location.uri == (ROOT / "stdlib" / "components" / "gpu-operator.aicr").as_uri()
    target = (ROOT / "stdlib" / "components" / "gpu-operator.aicr").read_text(encoding="utf-8")
    assert location.range.start == _at(target, "component gpu-operator", len("component "))

    location = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=_at(edited, "gb200", 1))
    )
    assert isinstance(location, types.Location) and location.uri.endswith("stdlib/dimensions.aicr")


@pytest.mark.asyncio
async def test_library_file_hover_uses_a_recipe_that_applies_the_layer(client: LanguageClient) -> None:
    text = LAYER.read_text(encoding="utf-8")
    uri = _open(client, LAYER)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=_at(text, "nfd.topologyUpdater.enable", 6))
    )
    assert hover is not None
    value = hover.contents.value  # type: ignore[union-attr]
    assert "in recipe `blackwell-eks-training`" in value
    assert "nfd.topologyUpdater.enable = true" in value and "hardware layer gb200-eks-training" in value


@pytest.mark.asyncio
async def test_completion_formatting_and_symbols(client: LanguageClient) -> None:
    text = "recipe r {\n    service = eks\n    set gpu-operator.dri\n}\n"
    path = ROOT / "recipes" / "scratch-unsaved.aicr"  # never written: the server reads the buffer
    uri = _open(client, path, text)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    items = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=2, character=24))
    )
    labels = {item.label for item in items.items}  # type: ignore[union-attr]
    assert {"driver", "toolkit", "cdi"} <= labels

    _change(client, uri, "recipe r {\n    service = \n}\n", 2)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert client.diagnostics[uri][0].code == "E0101"
    items = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=14))
    )
    assert {"eks", "gke", "aks", "oke", "kind", "any"} <= {item.label for item in items.items}  # type: ignore[union-attr]

    _change(client, uri, "recipe r {service=eks\nuse  nfd}\n", 3)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri), options=types.FormattingOptions(tab_size=4, insert_spaces=True)
        )
    )
    assert edits is not None and edits[0].new_text == "recipe r {\n    service = eks\n    use nfd\n}\n"
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert [(s.name, s.kind) for s in symbols] == [("r", types.SymbolKind.Object)]  # type: ignore[union-attr]
    assert [c.name for c in symbols[0].children] == ["service = eks"]  # type: ignore[union-attr, index]
