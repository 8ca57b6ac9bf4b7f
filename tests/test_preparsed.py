"""What the wheel ships done at build time. The standard library and recipes parsed
(`aicrc.compiler.syntax.preparsed`): the AST it hands back is the one the parser builds, under the
name the file is read by, and only for the exact text, grammar, Lark and aicrc it was built from.
Their manifests checked (`aicrc.compiler.load.known_manifests`): only the exact texts the loader's
own check passes, for the aicrc, PyYAML and checking code that wrote the list."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType

import pytest

from aicrc.compiler.load import known_manifests, resolve
from aicrc.compiler.syntax import parser, preparsed
from aicrc.resources import package_version
from aicrc.source import SourceFile, text_sha256
from tests.conftest import ROOT

SHIPPED = [*sorted((ROOT / "stdlib").rglob("*.aicr")), *sorted((ROOT / "recipes").glob("*.aicr"))]


def written_as_the_build_writes(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, file: Path, memo: str, write: Callable[[str], None]
) -> None:
    """`module`'s shipped file replaced by one `write` makes, as the build hook makes it, and its
    in-process copy (`memo`) forgotten before and after."""
    monkeypatch.setenv("AICRC_NO_CACHE", "1")
    monkeypatch.setattr(module, "SHIPPED", str(file))
    monkeypatch.setattr(module, memo, None)
    write(str(file))
    monkeypatch.setattr(module, memo, None)


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table of parsed files in place of the wheel's."""
    written_as_the_build_writes(
        monkeypatch, preparsed, tmp_path / "aicr.asts", "_table", lambda out: preparsed.write(out, parser._parse_uncached)
    )


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
    for name, other in (("__version__", "0.0.0"), ("package_version", lambda name: "0.0.1")):
        with monkeypatch.context() as patch:
            patch.setattr(preparsed, name, other)
            patch.setattr(preparsed, "_table", None)
            assert preparsed.lookup(source) is None
    monkeypatch.setattr(preparsed, "_table", None)
    assert preparsed.lookup(source) is not None  # the same table, read again: it was the tag


def test_versions_are_read_without_importing_the_packages() -> None:
    import lark
    import yaml

    assert package_version("lark") == lark.__version__
    assert package_version("yaml") == yaml.__version__
    assert package_version("no_such_package_here") == ""


def test_a_checkout_has_no_table() -> None:
    assert not Path(preparsed.SHIPPED).exists()
    assert not Path(known_manifests.SHIPPED).exists()


@pytest.fixture
def checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A list of checked manifests in place of the wheel's."""
    write = partial(known_manifests.write, problem=resolve.yaml_problem)
    written_as_the_build_writes(monkeypatch, known_manifests, tmp_path / "manifests.valid", "_known", write)


MANIFESTS = sorted(path for folder in ("stdlib", "recipes") for path in (ROOT / folder).rglob("*.yaml"))


@pytest.mark.usefixtures("checked")
def test_every_shipped_manifest_is_known_valid_and_no_other_text() -> None:
    assert MANIFESTS
    for path in MANIFESTS:
        text = path.read_bytes().decode("utf-8")
        assert known_manifests.known_valid(text), path
        assert not known_manifests.known_valid(text + "x: [\n"), path


@pytest.mark.usefixtures("checked")
def test_a_listed_text_is_not_checked_again_and_any_other_is(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = "key: [unclosed\n"
    assert resolve.yaml_problem(broken) == (1, 15, "expected ',' or ']', but got '<stream end>'")
    # the list is trusted as the build wrote it (a wheel's own file, like its bytecode)
    monkeypatch.setattr(known_manifests, "_known", frozenset({text_sha256(broken)}))
    assert resolve.yaml_problem(broken) is None


@pytest.mark.usefixtures("checked")
def test_a_list_for_another_aicrc_pyyaml_or_check_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    text = MANIFESTS[0].read_bytes().decode("utf-8")
    for name, other in (("__version__", "0.0.0"), ("package_version", lambda name: "0.0.1")):
        with monkeypatch.context() as patch:
            patch.setattr(known_manifests, name, other)
            patch.setattr(known_manifests, "_known", None)
            assert not known_manifests.known_valid(text)
    monkeypatch.setattr(known_manifests, "_known", None)
    assert known_manifests.known_valid(text)  # the same list, read again: it was the tag


@pytest.mark.usefixtures("checked")
def test_a_copy_without_its_source_files_checks_every_manifest(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the tag names the checking code; an install that ships only bytecode cannot show it matches
    text = MANIFESTS[0].read_bytes().decode("utf-8")
    monkeypatch.setattr(known_manifests, "__file__", str(tmp_path / "known_manifests.py"))
    monkeypatch.setattr(known_manifests, "_known", None)
    assert not known_manifests.known_valid(text)
