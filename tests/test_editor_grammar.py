"""The VS Code extension's TextMate grammar (editors/vscode) scopes every token of the stdlib and the recipes.

The grammar is run the way VS Code runs it, by vscode-textmate on the Oniguruma WASM engine, through
editors/vscode/test/tokenize.js. These tests need Node.js and the extension's npm dependencies
(`npm ci --prefix editors/vscode`); without them they skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "editors" / "vscode"
TOKENIZER = EXTENSION / "test" / "tokenize.js"
INSTALL_HINT = "install them with `npm ci --prefix editors/vscode --no-audit --no-fund`"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip(f"the editor grammar test needs Node.js (`node` on PATH) and the extension's npm packages; {INSTALL_HINT}")
    if not (EXTENSION / "node_modules" / "vscode-textmate").is_dir() or not (EXTENSION / "node_modules" / "vscode-oniguruma").is_dir():
        pytest.skip(f"the editor grammar test needs vscode-textmate and vscode-oniguruma in editors/vscode/node_modules; {INSTALL_HINT}")
    return node


def _tokenize(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_node(), str(TOKENIZER), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=120)


def _sources() -> list[Path]:
    return sorted([*(ROOT / "stdlib").rglob("*.aicr"), *(ROOT / "recipes").glob("*.aicr")])


def test_every_stdlib_and_recipe_token_has_a_scope() -> None:
    sources = _sources()
    assert sources, "no .aicr files found under stdlib/ and recipes/"
    result = _tokenize(*sources)
    problems = result.stdout.splitlines()
    assert result.returncode == 0 and problems == [], (
        f"tokenize.js exited {result.returncode}; tokens without a scope:\n" + "\n".join(problems) + f"\n{result.stderr}"
    )
    assert f"{len(sources)} files" in result.stderr


def test_unrecognised_characters_are_reported(tmp_path: Path) -> None:
    program = tmp_path / "bad.aicr"
    program.write_text('@\nlayer l: base {\n    use a `b`\n    set a.b = "ok"\n}\n', encoding="utf-8")
    result = _tokenize(program)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{program}:1:1: unrecognised token '@'",
        f"{program}:3:11: unrecognised token '`'",
        f"{program}:3:13: unrecognised token '`'",
    ]


def test_usage_error() -> None:
    result = _tokenize()
    assert result.returncode == 2
    assert "usage" in result.stderr


def _all_scopes(tokens: list[dict[str, Any]], line: int, text: str) -> list[list[str]]:
    """The scopes of each token on `line` whose text is `text`, left to right."""
    found: list[list[str]] = [token["scopes"] for token in tokens if token["line"] == line and token["text"] == text]
    assert found, f"no token {text!r} on line {line}: {[t['text'] for t in tokens if t['line'] == line]}"
    return found


def _scopes(tokens: list[dict[str, Any]], line: int, text: str) -> list[str]:
    """The scopes of the first token on `line` whose text is `text`."""
    return _all_scopes(tokens, line, text)[0]


def test_tokens_get_the_expected_scopes(tmp_path: Path) -> None:
    program = tmp_path / "scopes.aicr"
    program.write_text(
        "\n".join(
            [
                "# a comment",  # 1
                "layer eks: environment when service == eks {",  # 2
                '    values gpu-operator { driver { version = "580\\n", values = true } }',  # 3
                '    require K8s.server.version >= "1.28"',  # 4
                "}",  # 5
                "recipe r { service = kind  accelerator = h100 }",  # 6
                'component c { kind manifests  chart c from "https://x" version "1" }',  # 7
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = _tokenize("--dump", program)
    assert result.returncode == 0, result.stderr
    tokens: list[dict[str, Any]] = json.loads(result.stdout)
    assert all(token["scopes"][0] == "source.aicr" for token in tokens)

    assert "comment.line.number-sign.aicr" in _scopes(tokens, 1, " a comment")
    assert "storage.type.layer.aicr" in _scopes(tokens, 2, "layer")
    assert "entity.name.type.layer.aicr" in _scopes(tokens, 2, "eks")
    assert "storage.type.layer-kind.aicr" in _scopes(tokens, 2, "environment")
    assert "punctuation.separator.colon.aicr" in _scopes(tokens, 2, ":")
    assert "keyword.control.when.aicr" in _scopes(tokens, 2, "when")
    assert "keyword.operator.comparison.aicr" in _scopes(tokens, 2, "==")
    assert "keyword.other.values.aicr" in _scopes(tokens, 3, "values")
    # inside a map, `version` and `values` are keys, not keywords
    assert "variable.other.property.aicr" in _scopes(tokens, 3, "version")
    statement, key = _all_scopes(tokens, 3, "values")
    assert "keyword.other.values.aicr" in statement
    assert "variable.other.property.aicr" in key and not any(scope.startswith("keyword") for scope in key)
    assert "string.quoted.double.aicr" in _scopes(tokens, 3, "580")
    assert "constant.character.escape.aicr" in _scopes(tokens, 3, "\\n")
    assert "constant.language.boolean.true.aicr" in _scopes(tokens, 3, "true")
    assert "keyword.other.require.aicr" in _scopes(tokens, 4, "require")
    assert "keyword.operator.comparison.aicr" in _scopes(tokens, 4, ">=")
    assert "entity.name.function.recipe.aicr" in _scopes(tokens, 6, "r")
    # a recipe binds `service = kind`: there `kind` is a value, in a component a keyword
    assert not any(scope.startswith("keyword") for scope in _scopes(tokens, 6, "kind"))
    assert "keyword.other.kind.aicr" in _scopes(tokens, 7, "kind")
    assert "keyword.other.version.aicr" in _scopes(tokens, 7, "version")
