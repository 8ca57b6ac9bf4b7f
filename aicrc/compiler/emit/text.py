"""Serialising documents: YAML (the default, for people) and JSON (for programs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from aicrc import diagnostics as diag
from aicrc.compiler.syntax.ast import MAX_NESTING

try:  # libyaml's emitter is several times faster; the pure-Python one gives the same text
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]


class _Dumper(_BaseDumper):
    pass


def _represent_str(dumper: _Dumper, value: str) -> yaml.Node:
    # Multi-line text (manifests) reads best as a literal block.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


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
    with _writable():
        return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def to_json(document: Any) -> str:
    with _writable():
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render(document: Any, output_format: str) -> str:
    return to_json(document) if output_format == "json" else to_yaml(document)
