"""Where answers are computed: one compile thread with a deadline, behind a memo.

Compiling is pure: the same inputs give the same answer for as long as the process keeps its
library, so every answer (a RecipeResult, a bundle, a 400 with its diagnostics) is kept in a memo
keyed by a digest of the request's inputs, within `memo_bytes`, least recently used first out.
Requests for an answer being computed wait for that computation rather than start another.

Work runs on one thread per process, away from the event loop, and must finish within
`compile_timeout` of being asked for, queueing included: past it the request gets a 504
(retryable); work that had not started yet never does, and work under way is memoized when it
finishes, so the retry finds it. One thread, because the GIL leaves a
second no faster and the compiler's in-memory caches are made for one at a time; processes
(`--workers`) and replicas are how the server uses more cores.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from aicrc.records import Record
from aicrc.server import metrics
from aicrc.server.envelope import ApiError


class Reply(Record):
    status: int
    body: bytes
    media_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


Outcome = Reply | ApiError
# Answers of the moment, never memoized.
TRANSIENT = frozenset({"TIMEOUT", "SERVICE_UNAVAILABLE", "INTERNAL", "REQUEST_TIMEOUT"})


def digest(operation: str, *inputs: str | bytes) -> str:
    """The memo key of an operation on its inputs (each length-prefixed, so no two lists collide)."""
    h = hashlib.sha256()
    for part in (operation, *inputs):
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class Memo:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, tuple[Outcome, int]] = OrderedDict()

    def get(self, key: str) -> Outcome | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: str, outcome: Outcome) -> None:
        cost = len(outcome.body) + 256 if isinstance(outcome, Reply) else 1024
        if cost > self.max_bytes or key in self._entries:
            return
        self._entries[key] = (outcome, cost)
        self.size += cost
        while self.size > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.size -= dropped


class Service:
    def __init__(self, compile_timeout: float, memo_bytes: int) -> None:
        self.timeout = compile_timeout
        self.memo = Memo(memo_bytes)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aicrc-compile")
        self._pending: dict[str, asyncio.Future[Outcome]] = {}

    async def answer(self, key: str, work: Callable[[], Reply]) -> Reply:
        """The memoized answer for `key`, else `work()` run on the compile thread; an ApiError is raised."""
        outcome = self.memo.get(key)
        if outcome is not None:
            metrics.CACHE_HITS.inc()
        else:
            metrics.CACHE_MISSES.inc()
            pending = self._pending.get(key)
            if pending is None:
                pending = asyncio.ensure_future(self._compute(key, work))
                self._pending[key] = pending
                pending.add_done_callback(lambda _: self._pending.pop(key, None))
            outcome = await asyncio.shield(pending)  # a waiter that leaves does not cancel the others
        if isinstance(outcome, ApiError):
            raise outcome
        return outcome

    async def _compute(self, key: str, work: Callable[[], Reply]) -> Outcome:
        running = self._pool.submit(_captured, work)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(running)), self.timeout)
        except TimeoutError:
            metrics.COMPILES.labels("timeout").inc()
            if not running.cancel():  # started: kept when it finishes, for the retry the 504 invites
                loop = asyncio.get_running_loop()
                running.add_done_callback(lambda done: loop.call_soon_threadsafe(self._keep, key, done))
            return ApiError("TIMEOUT", f"the answer was not ready within {self.timeout:g} s", {"timeout": self.timeout})
        self._keep(key, running)
        return outcome

    def _keep(self, key: str, done: Future[Outcome]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        outcome = done.result()
        metrics.COMPILES.labels("ok" if isinstance(outcome, Reply) else "error").inc()
        if not (isinstance(outcome, ApiError) and outcome.code in TRANSIENT):
            self.memo.put(key, outcome)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _captured(work: Callable[[], Reply]) -> Outcome:
    try:
        return work()
    except ApiError as refused:
        return refused
