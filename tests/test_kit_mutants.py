"""The kit's exact edges (issue 12): sizes, expiry instants, accepted settings and the delay
sequence, each pinned so that an off-by-one in the kit shows as a failure here.

Plugins rely on these: a cache one entry short drops an order id the broker still reports,
an expiry one tick late serves a stale answer, a backoff that ignores its factor hammers a
venue that is down.
"""

from __future__ import annotations

import asyncio
import random
import threading

import pytest

from fks_exec.kit import Backoff, BoundedDict, SerialWorker, TtlCache, WorkerClosed

# ------------------------------------------------------------------ TtlCache


@pytest.mark.parametrize("ttl_s", [0, 0.5])
def test_a_ttl_under_one_second_is_accepted_and_expires_on_time(ttl_s: float) -> None:
    now = [100.0]
    cache: TtlCache[str, int] = TtlCache(ttl_s, clock=lambda: now[0])
    assert cache.ttl_s == ttl_s
    cache.set("a", 1)
    if ttl_s:
        now[0] = 100.0 + ttl_s / 2
        assert cache.get("a") == 1
    now[0] = 100.0 + ttl_s  # the expiry instant itself is already stale
    assert cache.get("a") is None
    assert len(cache) == 0


def test_a_ttl_cache_holds_exactly_maxlen_entries_and_drops_the_oldest() -> None:
    cache: TtlCache[str, int] = TtlCache(60, maxlen=2, clock=lambda: 0.0)
    cache.set("a", 1)
    cache.set("b", 2)
    assert len(cache) == 2 and cache.get("a") == 1 and cache.get("b") == 2
    cache.set("a", 10)  # setting again makes it the newest
    cache.set("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == (10, 3, 2)
    cache.clear()
    assert len(cache) == 0 and cache.get("a") is None


def test_a_ttl_cache_keeps_ten_thousand_entries_by_default() -> None:
    cache: TtlCache[int, int] = TtlCache(60, clock=lambda: 0.0)
    for key in range(10_000):
        cache.set(key, key)
    assert len(cache) == 10_000 and cache.get(0) == 0
    cache.set(10_000, 10_000)
    assert len(cache) == 10_000
    assert cache.get(0) is None and cache.get(1) == 1


def test_a_ttl_cache_uses_the_monotonic_clock_by_default() -> None:
    cache: TtlCache[str, int] = TtlCache(3600)
    cache.set("a", 1)
    assert cache.get("a") == 1  # an hour from "now" on the default clock


# ------------------------------------------------------------------ BoundedDict


def test_a_bounded_dict_of_one_keeps_the_last_entry() -> None:
    one: BoundedDict[str, int] = BoundedDict(1)
    one["a"] = 1
    assert dict(one) == {"a": 1}
    one["b"] = 2
    assert dict(one) == {"b": 2}


def test_a_full_bounded_dict_keeps_all_its_entries() -> None:
    two: BoundedDict[str, int] = BoundedDict(2)
    two["a"], two["b"] = 1, 2
    assert list(two.items()) == [("a", 1), ("b", 2)]
    two["a"] = 3  # an update refreshes: b is now the oldest
    two["c"] = 4
    assert list(two.items()) == [("a", 3), ("c", 4)]


def test_reading_a_plain_bounded_dict_does_not_reorder_it() -> None:
    plain: BoundedDict[str, int] = BoundedDict(2)
    plain["a"], plain["b"] = 1, 2
    assert plain.get("a") == 1 and plain.get("zz", 7) == 7 and plain.get("zz") is None
    plain["c"] = 3
    assert list(plain) == ["b", "c"]


def test_indexing_never_reorders_even_an_lru_dict() -> None:
    lru: BoundedDict[str, int] = BoundedDict(2, lru=True)
    lru["a"], lru["b"] = 1, 2
    assert lru["a"] == 1
    lru["c"] = 3
    assert list(lru) == ["b", "c"]
    assert lru.get("missing", 5) == 5


def test_touch_makes_an_entry_the_newest_and_refuses_a_missing_one() -> None:
    bounded: BoundedDict[str, int] = BoundedDict(2)
    bounded["a"], bounded["b"] = 1, 2
    bounded.touch("a")
    bounded["c"] = 3
    assert list(bounded) == ["a", "c"]
    with pytest.raises(KeyError):
        bounded.touch("b")
    assert bounded.maxlen == 2 and bounded.lru is False


# ------------------------------------------------------------------ Backoff


@pytest.mark.parametrize("seed", [0, 7, 12345])
def test_the_default_backoff_is_exactly_its_documented_sequence(seed: int) -> None:
    backoff = Backoff(seed=seed)
    draws = random.Random(seed)
    for i in range(12):
        nominal = min(10.0, 0.1 * 2**i)
        assert backoff.next_delay() == pytest.approx(nominal * (1 - 0.5 * draws.random()))
    assert (backoff.initial_s, backoff.cap_s, backoff.factor, backoff.jitter) == (
        0.1,
        10.0,
        2.0,
        0.5,
    )


def test_a_backoff_without_a_seed_still_stays_within_its_bounds() -> None:
    delays = [Backoff(1.0, 1.0).next_delay() for _ in range(50)]
    assert all(0.5 <= d <= 1.0 for d in delays)
    assert len(set(delays)) > 1  # jittered, not one fixed value


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_s": 1.0, "cap_s": 1.0},  # start at the cap
        {"initial_s": 0.5, "cap_s": 0.75},  # under a second
        {"initial_s": 1e-9},
        {"factor": 1.0},  # no growth
        {"factor": 1.5},
        {"jitter": 0.0},
        {"jitter": 1.0},
    ],
)
def test_a_backoff_accepts_every_setting_at_its_edges(kwargs: dict[str, float]) -> None:
    backoff = Backoff(**kwargs, seed=1)
    first, second = backoff.next_delay(), backoff.next_delay()
    initial = kwargs.get("initial_s", 0.1)
    jitter = kwargs.get("jitter", 0.5)
    assert initial * (1 - jitter) <= first <= initial
    assert second <= min(kwargs.get("cap_s", 10.0), initial * kwargs.get("factor", 2.0))


def test_a_backoff_without_jitter_or_growth_is_constant() -> None:
    backoff = Backoff(2.0, 5.0, factor=1.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(4)] == [2.0, 2.0, 2.0, 2.0]


@pytest.mark.parametrize(
    "kwargs",
    [{"jitter": -0.01}, {"jitter": 1.01}, {"factor": 0.99}, {"factor": float("inf")}],
)
def test_a_backoff_refuses_a_factor_or_jitter_out_of_range(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="factor must be >= 1 and jitter within"):
        Backoff(**kwargs)


# ------------------------------------------------------------------ SerialWorker


async def test_a_worker_closed_before_its_first_call_never_starts() -> None:
    worker = SerialWorker("fks-never-started")
    worker.close()
    with pytest.raises(WorkerClosed, match="fks-never-started"):
        await worker.run(int)
    assert not any(t.name == "fks-never-started" for t in threading.enumerate())


async def test_the_worker_thread_is_a_daemon_and_is_reused() -> None:
    worker = SerialWorker("fks-daemon-check")
    threads = [await worker.run(threading.current_thread) for _ in range(3)]
    assert len(set(threads)) == 1 and threads[0].daemon
    worker.close()
    assert not threads[0].is_alive()


async def test_a_cancelled_caller_leaves_the_call_running_and_no_error_behind() -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    worker = SerialWorker("fks-cancel-check")
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        finished.set()
        return "done"

    call = asyncio.ensure_future(worker.run(slow))
    await asyncio.to_thread(started.wait, 10)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    release.set()
    assert await worker.run(lambda: "next") == "next"  # the worker goes on
    assert finished.is_set()
    worker.close()
    await asyncio.sleep(0)
    assert errors == []


async def test_an_exception_from_the_sdk_reaches_the_caller_and_the_worker_goes_on() -> None:
    worker = SerialWorker("fks-error-check")

    def broken() -> None:
        raise SystemExit(3)  # even a BaseException is handed back, not fatal to the thread

    with pytest.raises(SystemExit):
        await worker.run(broken)
    assert await worker.run(lambda: 5) == 5
    worker.close()
