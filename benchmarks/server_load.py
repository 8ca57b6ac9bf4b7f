"""Load on `aicrc serve` over loopback: requests/s and p50/p99 latency, at fixed rates and at saturation.

    python benchmarks/server_load.py [--workers 2] [--seconds 10] [--rates 10,50] [--json FILE]
    AICRD_BIN=/tmp/aicr-ref/aicrd python benchmarks/server_load.py    # and the reference's server
    python benchmarks/server_load.py --quick                           # a few seconds: that it runs

What is measured, each for `--seconds` (2 workers unless told):
- GET /v1/recipe (eks, gb200, training): memoized after the first request.
- POST /v1/compile of one source: memoized; and of a source that differs every request (a comment
  with a counter), so each is a real compile.
- at fixed rates (open loop: each request is sent at its scheduled time, and its latency counts
  from then, so a stalled server is not hidden by a client that waits for it), and at saturation
  (closed loop: CONNECTIONS connections, each sending its next request when its answer arrives).
With AICRD_BIN, the reference's aicrd answers GET /v1/recipe at the same fixed rates, side by side,
the two servers taking turns (ROUNDS times) so that the machine's other work slows both alike. It
limits itself to 100 requests/s (all clients together), so it is compared at rates under that; our
saturation stands alone. Targets: p99 at 50 requests/s no worse than the reference's;
saturation of the memoized GET /v1/recipe at least 1,000 requests/s with 2 workers.

The client is asyncio on raw keep-alive connections, in this process: on a 2-core machine it takes
CPU from the server, so saturation figures are a floor. The load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server_process import running, running_reference  # noqa: E402

RECIPE_PATH = "/v1/recipe?service=eks&accelerator=gb200&intent=training"
SOURCE = "recipe load {\n    service = eks\n    accelerator = h100\n    intent = training\n}\n"
CONNECTIONS = 16
MAX_OPEN = 256  # connections an open-loop run may hold at once, when answers are slower than the rate
SATURATION_TARGET = 1000.0
ROUNDS = 5  # turns each server takes at a rate, when two are compared
WARM_CONNECTIONS = 16


@dataclass
class Result:
    server: str
    load: str  # "10/s", "saturation"
    route: str
    sent: int
    ok: int
    failed: int
    rps: float
    p50_ms: float
    p99_ms: float


Request = Callable[[int], bytes]  # the n-th request's bytes


def get(path: str) -> Request:
    data = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    return lambda n: data


def post_json(path: str, body: Callable[[int], dict[str, object]]) -> Request:
    def request(n: int) -> bytes:
        payload = json.dumps(body(n)).encode()
        head = f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        return head.encode() + payload

    return request


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @staticmethod
    async def open(port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return Connection(reader, writer)

    async def ask(self, request: bytes) -> int:
        """Send one request, read its whole answer; its status."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        fields = dict(line.lower().split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
        if fields.get(b"transfer-encoding", b"").strip() == b"chunked":  # the reference's Go server, for large answers
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        else:
            await self.reader.readexactly(int(fields.get(b"content-length", b"0")))
        return status

    def close(self) -> None:
        self.writer.close()


def _percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def fixed_rate(port: int, request: Request, rate: float, seconds: float) -> tuple[int, int, list[float], float]:
    """(requests due, answered 200, latencies of the answered, seconds taken)."""
    idle: list[Connection] = []
    latencies: list[float] = []
    ok = 0
    started = time.perf_counter()
    total = int(rate * seconds)
    tasks: list[asyncio.Task[None]] = []

    async def one(n: int, due: float) -> None:
        nonlocal ok
        connection = idle.pop() if idle else await Connection.open(port)
        try:
            status = await connection.ask(request(n))
        except (OSError, asyncio.IncompleteReadError):
            connection.close()
            return
        latencies.append(time.perf_counter() - due)
        ok += status == 200
        idle.append(connection)

    for n in range(total):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks = [task for task in tasks if not task.done()]
        if len(tasks) >= MAX_OPEN:
            continue  # the server has fallen this far behind: the request is not sent, and counts as failed
        tasks.append(asyncio.create_task(one(n, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    for connection in idle:
        connection.close()
    return total, ok, latencies, elapsed


async def saturation(port: int, request: Request, seconds: float) -> tuple[int, int, list[float], float]:
    latencies: list[float] = []
    ok = 0
    counter = itertools.count()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal ok
        connection = await Connection.open(port)
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            status = await connection.ask(request(next(counter)))
            latencies.append(time.perf_counter() - sent)
            ok += status == 200
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    return len(latencies), ok, latencies, elapsed


def measure(servers: dict[str, int], route: str, request: Request, load: str, seconds: float) -> list[Result]:
    """One result per server. Servers compared take turns, ROUNDS times, so that what else the
    machine is doing meanwhile slows them alike."""
    rounds = ROUNDS if len(servers) > 1 else 1
    totals: dict[str, tuple[int, int, list[float], float]] = {name: (0, 0, [], 0.0) for name in servers}
    for _ in range(rounds):
        for name, port in servers.items():
            if load == "saturation":
                taken = asyncio.run(saturation(port, request, seconds / rounds))
            else:
                taken = asyncio.run(fixed_rate(port, request, float(load.removesuffix("/s")), seconds / rounds))
            sent, ok, latencies, elapsed = totals[name]
            totals[name] = (sent + taken[0], ok + taken[1], latencies + taken[2], elapsed + taken[3])
    results = []
    for name, (sent, ok, latencies, elapsed) in totals.items():
        result = Result(name, load, route, sent, ok, sent - ok, ok / elapsed, _percentile(latencies, 0.5), _percentile(latencies, 0.99))
        print(
            f"{name:<10} {load:>10} {route:<28} {result.rps:>9.1f} {result.p50_ms:>9.2f} {result.p99_ms:>9.2f} {result.failed:>7}",
            flush=True,
        )
        results.append(result)
    return results


def routes() -> dict[str, Request]:
    return {
        "GET /v1/recipe": get(RECIPE_PATH),
        "POST /v1/compile (memo)": post_json("/v1/compile", lambda n: {"source": SOURCE}),
        "POST /v1/compile (fresh)": post_json("/v1/compile", lambda n: {"source": f"# request {n} {time.time_ns()}\n{SOURCE}"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each measurement runs (default 10)")
    parser.add_argument("--rates", default="10,50", help="fixed rates, requests/s (default 10,50: under the reference's 100/s)")
    parser.add_argument("--quick", action="store_true", help="half a second each, one rate: that the benchmark runs")
    parser.add_argument("--json", metavar="FILE", help="write the results here as JSON too")
    args = parser.parse_args()
    seconds = 0.5 if args.quick else args.seconds
    loads = [f"{rate}/s" for rate in ([20] if args.quick else [int(r) for r in args.rates.split(",")])] + ["saturation"]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {args.workers} workers; {seconds:g} s each")
    print(f"{'server':<10} {'load':>10} {'route':<28} {'ok req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'failed':>7}")
    results: list[Result] = []
    reference = os.environ.get("AICRD_BIN")
    with running({"AICRC_SERVER_RATE_LIMIT": "0"}, ["--workers", str(args.workers)]) as server, contextlib.ExitStack() as stack:
        others = {"reference": int(stack.enter_context(running_reference(reference)).rsplit(":", 1)[1])} if reference else {}
        for route, request in routes().items():
            for load in loads:
                # the reference answers GET /v1/recipe alone, and limits itself to 100/s: it is compared at the fixed rates
                compared = others if route == "GET /v1/recipe" and load != "saturation" else {}
                servers = {"aicrc": server.port, **compared}
                for port in servers.values():
                    asyncio.run(_warm(port, request))
                results += measure(servers, route, request, load, seconds)
    _verdict(results)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")


async def _warm(port: int, request: Request) -> None:
    """Each worker process computes an answer once, then keeps it: several connections at once
    reach every worker, so no measurement pays for a first computation."""

    async def one() -> None:
        connection = await Connection.open(port)
        for n in range(3):
            await connection.ask(request(n))
        connection.close()

    await asyncio.gather(*(one() for _ in range(WARM_CONNECTIONS)))


def _verdict(results: list[Result]) -> None:
    found = {(r.server, r.load, r.route): r for r in results}
    saturated = found.get(("aicrc", "saturation", "GET /v1/recipe"))
    if saturated:
        verdict = "meets" if saturated.rps >= SATURATION_TARGET else "misses"
        print(f"saturation, memoized GET /v1/recipe: {saturated.rps:.0f} requests/s ({verdict} the {SATURATION_TARGET:.0f}/s target)")
    ours, theirs = found.get(("aicrc", "50/s", "GET /v1/recipe")), found.get(("reference", "50/s", "GET /v1/recipe"))
    if ours and theirs:
        verdict = "meets" if ours.p99_ms <= theirs.p99_ms else "misses"
        print(f"p99 at 50/s, GET /v1/recipe: aicrc {ours.p99_ms:.2f} ms, reference {theirs.p99_ms:.2f} ms ({verdict} the target)")
    elif not os.environ.get("AICRD_BIN"):
        print("no reference server (set AICRD_BIN to the reference's aicrd to compare)")


if __name__ == "__main__":
    main()
