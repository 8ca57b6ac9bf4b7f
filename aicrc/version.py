"""The version of aicrc (one place: the package, the cache keys and the compiled recipes read it)."""

__version__ = "0.1.0"
