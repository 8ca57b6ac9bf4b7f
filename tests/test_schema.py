"""The compiled recipe's published JSON Schema, and every compiled document validating against it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

import aicrc
from aicrc.cli import main
from aicrc.compiler.emit.model import CompiledRecipe, json_schema
from tests.conftest import ROOT


class JsonSchemaSnapshot(SingleFileSnapshotExtension):
    """The schema pinned as a readable JSON file (tests/__snapshots__/test_schema/...json)."""

    _write_mode = WriteMode.TEXT
    file_extension = "json"


def test_schema_is_pinned(snapshot, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed) == json_schema()
    assert printed == snapshot(extension_class=JsonSchemaSnapshot)


@pytest.mark.parametrize("recipe", sorted((ROOT / "recipes").glob("*.aicr")), ids=lambda p: p.stem)
def test_compiled_recipes_validate(recipe: Path) -> None:
    compilation = aicrc.compile_file(recipe)
    jsonschema.validate(compilation.document, json_schema())
    model = compilation.recipe
    assert isinstance(model, CompiledRecipe)
    # the model reads back exactly what was printed: bundlers can work from the file alone
    assert model.model_dump(by_alias=True, exclude_unset=True) == compilation.document
