"""Serialising documents: YAML (the default, for people) and JSON (for programs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from aicrc import diagnostics as diag
from aicrc.compiler.emit import plain_yaml
from aicrc.compiler.syntax.ast import MAX_NESTING


@contextmanager
def _writable() -> Iterator[None]:
    """The parser keeps values within `MAX_NESTING` levels, but `--set` paths and values come from
    the command line; both serialisers recurse, so a deeper document is an error, not a crash."""
    try:
        yield
    except RecursionError:
        raise diag.error(
            "E0106",
            "the compiled recipe nests too deeply to write",
            help=f"values nest at most {MAX_NESTING} levels; is a --set path or value deeper than that?",
        ) from None


def to_yaml(document: Any) -> str:
    """Block-style YAML, keys in the document's order, text of several lines as `|` blocks.
    `plain_yaml` writes the documents it can (most) without importing PyYAML; PyYAML the rest."""
    with _writable():
        return plain_yaml.dump(document) or _pyyaml_dump(document)


def _pyyaml_dump(document: Any) -> str:
    import yaml

    text: str = yaml.dump(document, Dumper=_pyyaml_dumper(), sort_keys=False, allow_unicode=True, width=120)
    return text


@cache
def _pyyaml_dumper() -> type[Any]:
    """PyYAML's safe dumper, built on first use: importing PyYAML is what plain_yaml saves."""
    import yaml

    # libyaml's emitter is several times faster; the pure-Python one gives the same text
    base: type[Any] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        # Multi-line text (manifests) reads best as a literal block.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    dumper: type[Any] = type("Dumper", (base,), {})
    dumper.add_representer(str, represent_str)
    return dumper


def to_json(document: Any) -> str:
    with _writable():
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render(document: Any, output_format: str) -> str:
    return to_json(document) if output_format == "json" else to_yaml(document)
