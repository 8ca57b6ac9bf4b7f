"""Stage 1, parse: source text -> AST (`aicrc.syntax.ast`)."""
