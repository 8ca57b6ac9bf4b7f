"""The language server: `analysis` and `features` know the language, `server` speaks LSP."""
