"""Stage 2, load: files -> a checked Program."""
