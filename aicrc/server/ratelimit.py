"""Per-client token buckets: each client address may make `burst` requests at once, and `rate` more
each second after. One event loop serves a process, so the buckets need no lock.

The buckets of the least recently seen clients are dropped past MAX_CLIENTS, so a scan from many
addresses costs bounded memory; a dropped client starts again with a full bucket.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from aicrc.records import Record

MAX_CLIENTS = 10_000


class Verdict(Record):
    allowed: bool
    remaining: int  # whole tokens left after this request
    retry_after: int  # seconds until a token is there again (0 when allowed)


class RateLimiter:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, when)

    def take(self, client: str, now: float | None = None) -> Verdict:
        now = time.monotonic() if now is None else now
        tokens, then = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        retry_after = 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate))
        return Verdict(allowed, int(tokens), retry_after)
