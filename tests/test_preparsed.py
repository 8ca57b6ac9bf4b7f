"""The standard library and recipes the wheel ships parsed (`aicrc.compiler.syntax.preparsed`):
the AST it hands back is the one the parser builds, under the name the file is read by, and only
for the exact text, grammar, Lark and aicrc it was built from."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicrc.compiler.syntax import parser, preparsed
from aicrc.source import SourceFile
from tests.conftest import ROOT

SHIPPED = [*sorted((ROOT / "stdlib").rglob("*.aicr")), *sorted((ROOT / "recipes").glob("*.aicr"))]


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table written as the build hook writes it, in place of the wheel's."""
    monkeypatch.setenv("AICRC_NO_CACHE", "1")
    monkeypatch.setattr(preparsed, "SHIPPED", str(tmp_path / "aicr.asts"))
    monkeypatch.setattr(preparsed, "_table", None)
    preparsed.write(preparsed.SHIPPED, parser._parse_uncached)
    monkeypatch.setattr(preparsed, "_table", None)


@pytest.mark.usefixtures("shipped")
def test_every_shipped_file_gets_the_ast_the_parser_builds_under_the_name_it_is_read_by() -> None:
    for path in SHIPPED:
        source = SourceFile(f"/elsewhere/{path.name}", path.read_bytes().decode("utf-8"))
        module = preparsed.lookup(source)
        assert module is not None, path
        assert module == parser._parse_uncached(source), path


@pytest.mark.usefixtures("shipped")
def test_another_text_is_parsed() -> None:
    text = (ROOT / "stdlib" / "dimensions.aicr").read_text(encoding="utf-8")
    assert preparsed.lookup(SourceFile("stdlib/dimensions.aicr", text + "\n")) is None


@pytest.mark.usefixtures("shipped")
def test_a_table_for_another_aicrc_or_lark_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    source = SourceFile("stdlib/dimensions.aicr", (ROOT / "stdlib" / "dimensions.aicr").read_text(encoding="utf-8"))
    assert preparsed.lookup(source) is not None
    for name, other in (("__version__", "0.0.0"), ("_lark_version", lambda: "0.0.1")):
        with monkeypatch.context() as patch:
            patch.setattr(preparsed, name, other)
            patch.setattr(preparsed, "_table", None)
            assert preparsed.lookup(source) is None
    monkeypatch.setattr(preparsed, "_table", None)
    assert preparsed.lookup(source) is not None  # the same table, read again: it was the tag


def test_the_lark_version_is_read_without_importing_lark() -> None:
    import lark

    assert preparsed._lark_version() == lark.__version__


def test_a_checkout_has_no_table() -> None:
    assert not Path(preparsed.SHIPPED).exists()
