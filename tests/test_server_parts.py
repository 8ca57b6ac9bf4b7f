"""The server's parts, in-process: settings from the environment, the rate limiter, the memo, the
compile deadline, body parsing, the reference's selector. tests/test_server.py drives them all
through a real server; here each is held to its edges."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from aicrc.server import ratelimit, settings
from aicrc.server.bodies import MAX_DEPTH, parse
from aicrc.server.envelope import ApiError
from aicrc.server.ratelimit import RateLimiter
from aicrc.server.reference import select
from aicrc.server.service import Memo, Reply, Service, digest


def test_settings_from_the_environment() -> None:
    assert settings.from_env({}) == settings.Settings()
    given = settings.from_env({"AICRC_SERVER_RATE_LIMIT": "2.5", "AICRC_SERVER_MAX_IN_FLIGHT": " 7 ", "AICRC_SERVER_MEMO_BYTES": "0"})
    assert (given.rate_limit, given.max_in_flight, given.memo_bytes) == (2.5, 7, 0)
    for name, text, problem in (
        ("RATE_LIMIT", "fast", "expected a number"),
        ("RATE_BURST", "1.5", "expected an integer"),
        ("RATE_LIMIT", "-1", "at least 0"),
        ("COMPILE_TIMEOUT", "0", "at least 0.001"),
        ("COMPILE_TIMEOUT", "nan", "at least"),
    ):
        with pytest.raises(ValueError, match=problem):
            settings.from_env({f"AICRC_SERVER_{name}": text})


def test_allowlists_from_the_environment() -> None:
    found = settings.from_env(
        {"AICRC_ALLOWED_SERVICE": "EKS, gke,,eks", "AICR_ALLOWED_ACCELERATORS": "h100", "AICR_ALLOWED_SERVICES": "aks"}
    )
    assert found.allowed == {"service": ("eks", "gke"), "accelerator": ("h100",)}  # aicrc's name wins over the reference's
    dimensions, aliases = {"service": ["eks", "gke"], "accelerator": ["h100", "l40s"]}, {"accelerator": {"l40": "l40s"}}
    settings.check_allowlists(settings.Settings(allowed={"accelerator": ("l40", "any")}), dimensions, aliases)
    assert settings.canonical_allowlists(settings.Settings(allowed={"accelerator": ("l40",)}), aliases) == {"accelerator": {"l40s"}}
    with pytest.raises(ValueError, match="no dimension 'flavour'"):
        settings.check_allowlists(settings.Settings(allowed={"flavour": ("x",)}), dimensions, aliases)
    with pytest.raises(ValueError, match="windows is not a value of service"):
        settings.check_allowlists(settings.Settings(allowed={"service": ("windows",)}), dimensions, aliases)


def test_token_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = RateLimiter(rate=2, burst=3)
    assert [limiter.take("a", now=10).allowed for _ in range(4)] == [True, True, True, False]
    assert limiter.take("a", now=10).retry_after == 1 and limiter.take("b", now=10).allowed  # each client its own bucket
    assert limiter.take("a", now=10.5).allowed and not limiter.take("a", now=10.5).allowed  # one token each half second
    assert limiter.take("a", now=100).remaining == 2  # refilled, never above the burst
    monkeypatch.setattr(ratelimit, "MAX_CLIENTS", 2)
    for client in ("c", "d", "e"):
        limiter.take(client, now=200)
    assert len(limiter._buckets) == 2


def test_memo_keeps_the_recently_used_within_its_budget() -> None:
    memo = Memo(max_bytes=3 * (100 + 256))
    for key in "abc":
        memo.put(key, Reply(200, b"x" * 100))
    assert memo.get("a") is not None  # a is used: b is now the oldest
    memo.put("d", Reply(200, b"x" * 100))
    assert memo.get("b") is None and all(memo.get(key) is not None for key in "acd")
    memo.put("huge", Reply(200, b"x" * 10_000))  # larger than the whole budget: not kept, nothing dropped for it
    assert memo.get("huge") is None and memo.get("a") is not None
    assert digest("a", "bc") != digest("ab", "c")


def test_the_deadline_and_the_late_answer() -> None:
    async def scenario() -> None:
        service = Service(compile_timeout=0.2, memo_bytes=1 << 20)
        release = threading.Event()
        calls = []

        def slow() -> Reply:
            calls.append(1)
            release.wait(5)
            return Reply(200, b"late")

        with pytest.raises(ApiError) as timed_out:
            await service.answer("k", slow)
        assert timed_out.value.code == "TIMEOUT" and timed_out.value.status == 504
        release.set()
        for _ in range(50):  # the work under way is kept when it finishes
            await asyncio.sleep(0.05)
            if service.memo.get("k") is not None:
                break
        assert (await service.answer("k", slow)).body == b"late" and len(calls) == 1
        # two requests for one answer being computed share one computation
        both = await asyncio.gather(service.answer("j", lambda: (calls.append(2), Reply(200, b"j"))[1]), service.answer("j", slow))
        assert [r.body for r in both] == [b"j", b"j"] and calls.count(2) == 1
        # a refusal is memoized too; the moment's refusals are not
        refusals = []

        def refuse() -> Reply:
            refusals.append(1)
            raise ApiError("INVALID_REQUEST", "no")

        for _ in range(2):
            with pytest.raises(ApiError):
                await service.answer("r", refuse)
        assert len(refusals) == 1
        service.close()

    asyncio.run(scenario())


def test_work_queued_past_its_deadline_never_runs() -> None:
    async def scenario() -> list[str]:
        service = Service(compile_timeout=0.2, memo_bytes=1 << 20)
        ran: list[str] = []
        hold = threading.Event()
        blocker = asyncio.ensure_future(service.answer("blocker", lambda: (hold.wait(5), Reply(200, b""))[1]))
        await asyncio.sleep(0.05)
        with pytest.raises(ApiError):
            await service.answer("queued", lambda: (ran.append("queued"), Reply(200, b""))[1])
        hold.set()
        with pytest.raises(ApiError):
            await blocker
        time.sleep(0.2)
        service.close()
        return ran

    assert asyncio.run(scenario()) == []


def test_bodies() -> None:
    assert parse(b"spec: {service: yes, nodes: 08, when: 2026-01-02}", "yaml") == {
        "spec": {"service": "yes", "nodes": 8.0, "when": "2026-01-02T00:00:00Z"}
    }
    assert parse(b'{"a": [1, 2.5, null, true]}', "json") == {"a": [1, 2.5, None, True]}
    assert parse(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, "json") is not None
    for raw, kind, problem in (
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "json", "nests more than"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "yaml", "nests more than"),
        (b"a: &x 1\nb: *x\n", "yaml", "alias"),
        (b"a: 1\na: 2\n", "yaml", "given twice"),
        (b"a: .nan\n", "yaml", "not a number"),
        (b"--- 1\n--- 2\n", "yaml", "invalid YAML"),
        (b"   ", "json", "empty"),
    ):
        with pytest.raises(ApiError, match=problem):
            parse(raw, kind)


def test_the_reference_selector() -> None:
    hydrated = {"components": {"gpu-operator": {"values": {"driver": {"version": "580"}}}}, "deploymentOrder": ["a"]}
    assert select(hydrated, "") is hydrated and select(hydrated, ".") is hydrated
    assert select(hydrated, ".components.gpu-operator.values.driver.version") == "580"
    with pytest.raises(ApiError) as not_a_map:
        select(hydrated, "deploymentOrder.0")  # the reference indexes maps only
    assert not_a_map.value.code == "NOT_FOUND" and "cannot descend into non-map value at '0'" in not_a_map.value.details["error"]
    with pytest.raises(ApiError) as missing:
        select(hydrated, "nope")
    assert "available keys: components, deploymentOrder" in missing.value.details["error"]
