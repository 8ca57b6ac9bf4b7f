"""Stage 3, evaluate: bind criteria, select and order layers, merge components and values."""
