"""Stage 5, emit: Resolved + Plan -> the compiled recipe document, as YAML or JSON."""
