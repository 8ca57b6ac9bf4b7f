"""provenance.intoto.jsonl: a signed statement of what built the bundle, from what.

The file is one line, a DSSE envelope (securesystemslib.dsse) whose payload is an in-toto
Statement v1: its subjects are every other file of the bundle with its sha256 (checksums.txt
included), its predicate SLSA Provenance v1. The build definition records the recipe, the criteria
and the deployers (externalParameters) and every file the recipe was compiled from with its sha256
(resolvedDependencies): the recipe, the standard library's layers and components, the overlays.
From `--compiled FILE` those files are not known: the compiled file is the dependency, and the
recipe's own input digest (metadata.digest, over every input) stands for the rest.

No timestamps and sorted keys: the statement depends only on the bundle and its inputs, so with an
Ed25519 key (deterministic signatures) the file is byte-identical across runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from securesystemslib.dsse import Envelope
from securesystemslib.signer import Signer

from aicrc.bundle.files import Bundle
from aicrc.bundle.recipe import Recipe
from aicrc.records import Record
from aicrc.version import __version__

NAME = "provenance.intoto.jsonl"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://aicrc.dev/buildtypes/bundle/v1"
BUILDER_ID = "https://aicrc.dev/builder/aicrc"


class Input(Record):
    """One file the bundle was built from: its name as diagnostics show it, and its sha256."""

    uri: str
    sha256: str


def inputs_from_sources(sources: Mapping[str, str]) -> tuple[Input, ...]:
    """The inputs of a compilation: each source file's display name and text (as aicrc.api keeps them)."""
    return tuple(Input(name, hashlib.sha256(text.encode()).hexdigest()) for name, text in sorted(sources.items()))


def statement(bundle: Bundle, recipe: Recipe, deployers: Sequence[str], inputs: Sequence[Input]) -> dict[str, Any]:
    subjects = [
        {"name": path, "digest": {"sha256": hashlib.sha256(bundle[path].content).hexdigest()}}
        for path in sorted(bundle, key=lambda path: path.encode())
        if path != NAME
    ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"recipe": recipe.name, "criteria": dict(recipe.criteria), "deployers": list(deployers)},
                "internalParameters": {"recipeDigest": recipe.digest, "compiler": recipe.compiler},
                "resolvedDependencies": [{"uri": item.uri, "digest": {"sha256": item.sha256}} for item in inputs],
            },
            "runDetails": {"builder": {"id": BUILDER_ID, "version": {"aicrc": __version__}}},
        },
    }


def add_provenance(bundle: Bundle, recipe: Recipe, deployers: Sequence[str], inputs: Sequence[Input], signer: Signer) -> None:
    """Sign the statement over the bundle as it is now and add it; checksums.txt is written already
    and does not list this file (it cannot: the file covers checksums.txt)."""
    bundle.add(NAME, sign_statement(statement(bundle, recipe, deployers, inputs), signer))


def sign_statement(document: Mapping[str, Any], signer: Signer) -> str:
    """An in-toto statement as a one-line DSSE envelope (canonical JSON), signed with `signer`."""
    payload = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    envelope = Envelope(payload, PAYLOAD_TYPE, {})
    envelope.sign(signer)
    return json.dumps(envelope.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"
