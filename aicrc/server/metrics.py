"""The server's Prometheus metrics, in the text format at /metrics.

With several worker processes (`aicrc serve --workers N`) each process writes its counts to files
in PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, which `aicrc serve` sets up),
and /metrics adds up every process's, whichever process answers the scrape. Only counters and
histograms are kept, which need no cleanup when a process ends.

Routes are labelled by their path template, or `other`: a label per path a client makes up would
grow without bound.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

REGISTRY = CollectorRegistry()

REQUESTS = Counter("aicrc_http_requests_total", "HTTP requests answered", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "aicrc_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
COMPILES = Counter("aicrc_compiles_total", "Compiles (and bundles, validations) run, by outcome", ["outcome"], registry=REGISTRY)
CACHE_HITS = Counter("aicrc_cache_hits_total", "Answers served from the memo", registry=REGISTRY)
CACHE_MISSES = Counter("aicrc_cache_misses_total", "Answers computed because the memo did not hold them", registry=REGISTRY)
RATE_LIMITED = Counter("aicrc_rate_limit_rejects_total", "Requests refused by the per-client rate limit", registry=REGISTRY)
OVERLOADED = Counter("aicrc_overload_rejects_total", "Requests refused because the process was answering its maximum", registry=REGISTRY)


def exposition() -> tuple[bytes, str]:
    """The metrics text, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
