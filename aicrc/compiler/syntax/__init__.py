"""Stage 1, parse: source text -> AST (`aicrc.compiler.syntax.ast`)."""
