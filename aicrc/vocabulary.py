"""The language's fixed words: layer kinds and their precedence, component kinds, check phases and
keywords. The evaluator, the name checks, the linter, the importer and the language server's
completion all read them here, so adding a kind or a phase is one edit."""

from __future__ import annotations

# Layer kinds, lowest precedence first.
LAYER_KINDS = ("base", "environment", "os", "intent", "hardware", "platform")

# Precedence of everything that can contribute a value, lowest first: a component's own defaults,
# the layer kinds in order, then the recipe, then `--set` on the command line.
PRECEDENCE = ("component", *LAYER_KINDS, "recipe", "command-line")
KIND_RANK = {kind: rank for rank, kind in enumerate(PRECEDENCE)}

COMPONENT_KINDS = ("helm", "manifests")
CHECK_PHASES = ("deployment", "performance", "conformance")

# Keywords by where they may start a statement.
DECLARATION_KEYWORDS = ("import", "dimension", "extend dimension", "component", "feature", "layer", "recipe")
COMPONENT_KEYWORDS = ("chart", "kind", "namespace", "needs", "manifest", "schema", "values")
STATEMENT_KEYWORDS = ("use", "drop", "set", "values", "needs", "manifest", "enable", "when", "require", "check")
