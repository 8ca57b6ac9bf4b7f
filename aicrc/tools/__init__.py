"""Tools over the compiler's results: fmt, lint, explain, diff, stats, matrix."""
