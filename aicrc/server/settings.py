"""The server's limits and allowlists, read from the environment.

Every worker process reads the same environment, so `aicrc serve` passes its own flags to them
that way too (`--overlay` joins AICRC_PATH). Defaults follow the reference's server where it has
one (100 requests/s with bursts of 200, 10 s to send the headers, a 30 s answer); the rate is per
client address here, not one bucket shared by every client.

    AICRC_SERVER_RATE_LIMIT       requests per second per client address (0: no limit)      100
    AICRC_SERVER_RATE_BURST       requests a client may make at once                          200
    AICRC_SERVER_MAX_BODY_BYTES   the largest request body                                1048576
    AICRC_SERVER_COMPILE_TIMEOUT  seconds one compile (or bundle, or matrix) may take          10
    AICRC_SERVER_BODY_TIMEOUT     seconds a client may take to send its body                   10
    AICRC_SERVER_HEADER_TIMEOUT   seconds a client may take to send a request's headers       10
    AICRC_SERVER_KEEP_ALIVE       seconds an idle connection stays open                          5
    AICRC_SERVER_MAX_IN_FLIGHT    requests answered at once by one process; more get 503       64
    AICRC_SERVER_MAX_CONNECTIONS  open connections per process; more are closed at once     1024
    AICRC_SERVER_MEMO_BYTES       memory for memoized answers, per process                 64 MiB
    AICRC_ALLOWED_<DIMENSION>     the values of a dimension a request may ask for (a, b, c)    all

The reference's allowlist variables (AICR_ALLOWED_ACCELERATORS, _SERVICES, _INTENTS, _OS) are read
too, so a deployment that replaces the reference keeps its configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from aicrc.records import Record

PREFIX = "AICRC_SERVER_"
ALLOWED_PREFIX = "AICRC_ALLOWED_"
REFERENCE_ALLOWLISTS = {
    "AICR_ALLOWED_ACCELERATORS": "accelerator",
    "AICR_ALLOWED_SERVICES": "service",
    "AICR_ALLOWED_INTENTS": "intent",
    "AICR_ALLOWED_OS": "os",
}


class Settings(Record):
    rate_limit: float = 100.0
    rate_burst: int = 200
    max_body_bytes: int = 1024 * 1024
    compile_timeout: float = 10.0
    body_timeout: float = 10.0
    header_timeout: float = 10.0
    keep_alive: float = 5.0
    max_in_flight: int = 64
    max_connections: int = 1024
    memo_bytes: int = 64 * 1024 * 1024
    allowed: Mapping[str, tuple[str, ...]] = {}  # dimension -> the values a request may name (lowercase)


# name -> (the Settings field, its type, the least value it may take)
_KNOBS: dict[str, tuple[str, type, float]] = {
    "RATE_LIMIT": ("rate_limit", float, 0),
    "RATE_BURST": ("rate_burst", int, 1),
    "MAX_BODY_BYTES": ("max_body_bytes", int, 1),
    "COMPILE_TIMEOUT": ("compile_timeout", float, 0.001),
    "BODY_TIMEOUT": ("body_timeout", float, 0.001),
    "HEADER_TIMEOUT": ("header_timeout", float, 0.001),
    "KEEP_ALIVE": ("keep_alive", float, 0.001),
    "MAX_IN_FLIGHT": ("max_in_flight", int, 1),
    "MAX_CONNECTIONS": ("max_connections", int, 1),
    "MEMO_BYTES": ("memo_bytes", int, 0),
}


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings the environment gives; ValueError naming the variable for one that is wrong."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for suffix, (field, kind, least) in _KNOBS.items():
        text = env.get(PREFIX + suffix, "").strip()
        if not text:
            continue
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"{PREFIX}{suffix}={text!r}: expected {'an integer' if kind is int else 'a number'}") from None
        if not value >= least or value != value:  # `value != value`: NaN
            raise ValueError(f"{PREFIX}{suffix}={text!r}: must be at least {least:g}")
        values[field] = value
    values["allowed"] = _allowlists(env)
    return Settings(**values)


def _allowlists(env: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    named = {name.removeprefix(ALLOWED_PREFIX).lower(): name for name in env if name.startswith(ALLOWED_PREFIX)}
    named.update({dimension: name for name, dimension in REFERENCE_ALLOWLISTS.items() if name in env and dimension not in named})
    allowed = {}
    for dimension, name in sorted(named.items()):
        values = tuple(dict.fromkeys(v.strip().lower() for v in env[name].split(",") if v.strip()))
        if values:
            allowed[dimension] = values
    return allowed


def check_allowlists(settings: Settings, dimensions: Mapping[str, Sequence[str]], aliases: Mapping[str, Mapping[str, str]]) -> None:
    """Every allowlisted value names a value of a dimension of the library (an alias counts)."""
    for dimension, values in settings.allowed.items():
        if dimension not in dimensions:
            raise ValueError(f"{ALLOWED_PREFIX}{dimension.upper()}: the library has no dimension {dimension!r} ({', '.join(dimensions)})")
        known = {*dimensions[dimension], *aliases.get(dimension, {})}
        unknown = [value for value in values if value not in known and value != "any"]
        if unknown:
            choices = ", ".join(dimensions[dimension])
            raise ValueError(f"{ALLOWED_PREFIX}{dimension.upper()}: {', '.join(unknown)} is not a value of {dimension} ({choices})")


def canonical_allowlists(settings: Settings, aliases: Mapping[str, Mapping[str, str]]) -> dict[str, frozenset[str]]:
    """The allowlists with aliases replaced by what they stand for (`l40` allows `l40s`)."""
    return {
        dimension: frozenset(aliases.get(dimension, {}).get(value, value) for value in values)
        for dimension, values in settings.allowed.items()
    }
