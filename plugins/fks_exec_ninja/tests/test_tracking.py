"""The waiters the reader resolves (tracking.py), one behaviour at a time, fast.

Each wait ends in exactly one way -- agreed (with the values that agreed), timed out,
disagreed after the grace period, or lost -- and leaves nothing registered behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fks_exec_ninja.states import Observed
from fks_exec_ninja.tracking import AGREED, DISAGREED, LOST, ORDER_KEYS, TIMED_OUT, Waiters

ONE, TWO = Decimal(1), Decimal(2)


def final(seen: Observed) -> bool:
    return seen.final


def settled(quantity: Decimal, *, market: bool = True) -> Callable[[Observed], bool]:
    return lambda seen: seen.settled(quantity, market=market)


def push(values: dict[str, str], waiters: Waiters, *pairs: tuple[str, str]) -> None:
    """One read: store every value, then judge."""
    for key, value in pairs:
        values[key] = value
        waiters.on_value(key, value)
    waiters.on_batch()


def later(delay: float, action: Callable[[], None]) -> None:
    asyncio.get_running_loop().call_later(delay, action)


async def test_values_already_there_answer_at_once_with_what_agreed() -> None:
    values = {"OrderStatus|A": "Filled", "Filled|A": "1", "AvgFillPrice|A": "5"}
    waiters = Waiters(values)
    how, seen = await waiters.order("A", settled(ONE), quantity=ONE, timeout_s=5, agree_s=0)
    assert how == AGREED and seen == Observed("filled", ONE, Decimal(5))
    assert len(waiters) == 0 and len(waiters._deadlines) == 0


async def test_a_fill_pushed_in_one_read_answers() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    sent: list[int] = []

    def send() -> None:
        assert len(waiters) == 1  # in place before anything can come back
        sent.append(1)
        later(0.01, lambda: push(values, waiters, ("Filled|A", "2"), ("AvgFillPrice|A", "7")))
        later(0.02, lambda: push(values, waiters, ("OrderStatus|A", "Filled")))

    how, seen = await waiters.order(
        "A", settled(TWO), quantity=TWO, timeout_s=5, agree_s=1, sent=send
    )
    assert (how, seen, sent) == (AGREED, Observed("filled", TWO, Decimal(7)), [1])
    assert len(waiters) == 0


async def test_what_send_raises_propagates_and_nothing_stays() -> None:
    waiters = Waiters({})

    def send() -> None:
        raise OSError("boom")

    with pytest.raises(OSError, match="boom"):
        await waiters.order("A", final, quantity=None, timeout_s=5, agree_s=0, sent=send)
    assert len(waiters) == 0 and len(waiters._deadlines) == 0


async def test_no_answer_times_out_without_values() -> None:
    values = {"OrderStatus|A": "Working"}
    waiters = Waiters(values)
    loop = asyncio.get_running_loop()
    began = loop.time()
    how, seen = await waiters.order("A", final, quantity=None, timeout_s=0.05, agree_s=0)
    assert (how, seen) == (TIMED_OUT, None)
    assert loop.time() - began >= 0.045
    assert len(waiters) == 0


async def test_a_final_state_whose_fill_lags_waits_the_grace_then_disagrees() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    later(0.01, lambda: push(values, waiters, ("OrderStatus|A", "Filled")))
    loop = asyncio.get_running_loop()
    began = loop.time()
    how, seen = await waiters.order("A", settled(ONE), quantity=ONE, timeout_s=5, agree_s=0.05)
    assert (how, seen) == (DISAGREED, None)
    assert 0.05 <= loop.time() - began < 1


async def test_the_fill_arriving_within_the_grace_agrees() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    later(0.01, lambda: push(values, waiters, ("OrderStatus|A", "Filled")))
    later(0.03, lambda: push(values, waiters, ("Filled|A", "1"), ("AvgFillPrice|A", "9")))
    how, seen = await waiters.order("A", settled(ONE), quantity=ONE, timeout_s=5, agree_s=1)
    assert (how, seen) == (AGREED, Observed("filled", ONE, Decimal(9)))


async def test_the_grace_never_outlasts_the_timeout() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    later(0.01, lambda: push(values, waiters, ("OrderStatus|A", "Filled")))
    how, _ = await waiters.order("A", settled(ONE), quantity=ONE, timeout_s=0.05, agree_s=10)
    assert how == TIMED_OUT


async def test_a_later_fill_waits_for_its_own_average() -> None:
    """The average NinjaTrader had before a second fill is stale until it is pushed
    after that fill: the answer waits the grace for it, then disagrees."""
    values = {"OrderStatus|A": "PartFilled", "Filled|A": "1", "AvgFillPrice|A": "5"}
    waiters = Waiters(values)
    later(0.01, lambda: push(values, waiters, ("OrderStatus|A", "Filled"), ("Filled|A", "2")))
    how, _ = await waiters.order("A", settled(TWO), quantity=TWO, timeout_s=5, agree_s=0.05)
    assert how == DISAGREED
    later(0.01, lambda: push(values, waiters, ("Filled|A", "3"), ("AvgFillPrice|A", "6")))
    values.update({"OrderStatus|A": "PartFilled", "Filled|A": "2"})
    three = Decimal(3)
    later(0.02, lambda: push(values, waiters, ("OrderStatus|A", "Filled")))
    how, seen = await waiters.order("A", settled(three), quantity=three, timeout_s=5, agree_s=1)
    assert (how, seen) == (AGREED, Observed("filled", three, Decimal(6)))


async def test_the_first_fill_and_a_repeated_fill_need_no_new_average() -> None:
    for before in ("0", ""):
        values = {"OrderStatus|A": "Working", "Filled|A": before}
        waiters = Waiters(values)
        later(
            0.01,
            lambda v=values, w=waiters: push(  # type: ignore[misc]
                v, w, ("AvgFillPrice|A", "5"), ("Filled|A", "1"), ("OrderStatus|A", "Filled")
            ),
        )
        how, _ = await waiters.order("A", settled(ONE), quantity=ONE, timeout_s=5, agree_s=2)
        assert how == AGREED
    values = {"OrderStatus|A": "PartFilled", "Filled|A": "1", "AvgFillPrice|A": "5"}
    waiters = Waiters(values)
    later(0.01, lambda: push(values, waiters, ("Filled|A", "1"), ("OrderStatus|A", "Cancelled")))
    how, _ = await waiters.order("A", final, quantity=TWO, timeout_s=5, agree_s=2)
    assert how == AGREED


async def test_only_the_orders_a_read_touched_are_judged() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    looked: list[str] = []

    def watching(name: str) -> Callable[[Observed], bool]:
        def ready(seen: Observed) -> bool:
            looked.append(name)
            return seen.final

        return ready

    a = asyncio.ensure_future(
        waiters.order("A", watching("A"), quantity=None, timeout_s=5, agree_s=0)
    )
    b = asyncio.ensure_future(
        waiters.order("B", watching("B"), quantity=None, timeout_s=5, agree_s=0)
    )
    await asyncio.sleep(0)
    push(values, waiters, ("OrderStatus|A", "Working"), ("Filled|A", "0"), ("Other|B", "x"))
    assert looked == ["A"]  # once for the read, not once per value; B untouched
    push(values, waiters, ("OrderStatus|A", "Cancelled"), ("OrderStatus|B", "Rejected"))
    assert await a == (AGREED, Observed("cancelled", Decimal(0), None))
    assert (await b)[0] == AGREED
    waiters.on_batch()  # nothing dirty: nothing judged
    assert looked == ["A", "A", "B"]


async def test_two_waiters_on_one_order_are_both_answered() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    first = asyncio.ensure_future(waiters.order("A", final, quantity=None, timeout_s=5, agree_s=0))
    second = asyncio.ensure_future(
        waiters.order("A", final, quantity=None, timeout_s=0.02, agree_s=0)
    )
    await asyncio.sleep(0)
    assert len(waiters) == 2
    assert (await second) == (TIMED_OUT, None)
    assert len(waiters) == 1
    push(values, waiters, ("OrderStatus|A", "Rejected"))
    assert (await first)[0] == AGREED
    assert len(waiters) == 0 and waiters._orders == {}


async def test_lost_answers_every_waiter() -> None:
    waiters = Waiters({})
    order = asyncio.ensure_future(waiters.order("A", final, quantity=None, timeout_s=5, agree_s=0))
    key = asyncio.ensure_future(waiters.key(["K"], lambda: False, 0.2))
    await asyncio.sleep(0)
    waiters.lost()
    assert await order == (LOST, None)
    assert await key is False  # woken, looked again, then its own timeout
    assert len(waiters) == 0


async def test_key_waits_wake_on_their_keys_and_time_out() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    assert await waiters.key(["K"], lambda: True, 0)  # already true: no wait
    later(0.01, lambda: values.update(K="1") or waiters.on_value("K", "1"))
    assert await waiters.key(["K", "L"], lambda: "K" in values, 5)
    assert waiters._keys == {}
    woke: list[int] = []

    def never() -> bool:
        woke.append(1)
        return False

    later(0.01, lambda: waiters.on_value("M", "1"))  # another key: no wake-up
    later(0.02, lambda: waiters.on_value("K", "2"))
    assert not await waiters.key(["K"], never, 0.06)
    assert len(woke) == 3  # before waiting, at the K push, at the timeout
    assert waiters._keys == {} and len(waiters) == 0


async def test_deadlines_of_different_lengths_each_end_in_time() -> None:
    values = {"OrderStatus|done": "Working"}
    waiters = Waiters(values)
    loop = asyncio.get_running_loop()
    began = loop.time()
    ended: dict[str, float] = {}

    async def wait(order_id: str, timeout: float) -> None:
        how, _ = await waiters.order(order_id, final, quantity=None, timeout_s=timeout, agree_s=0)
        ended[order_id] = loop.time() - began
        assert how == (AGREED if order_id == "done" else TIMED_OUT)

    later(0.01, lambda: push(values, waiters, ("OrderStatus|done", "Filled")))
    await asyncio.gather(  # margins of 0.1 s or more: it holds on a loaded machine too
        wait("long", 0.6), wait("short", 0.1), wait("mid", 0.3), wait("done", 2.0)
    )
    assert ended["done"] < 0.1 <= ended["short"] < 0.3 <= ended["mid"] < 0.6 <= ended["long"]
    assert ended["long"] < 3
    # the finished one left with the last timeout; no timer stays armed
    assert len(waiters._deadlines) == 0 and waiters._deadlines._timer is None


async def test_a_later_shorter_wait_rearms_the_timer() -> None:
    waiters = Waiters({})
    loop = asyncio.get_running_loop()
    long = asyncio.ensure_future(waiters.order("L", final, quantity=None, timeout_s=5, agree_s=0))
    await asyncio.sleep(0)
    began = loop.time()
    how, _ = await waiters.order("S", final, quantity=None, timeout_s=0.03, agree_s=0)
    assert how == TIMED_OUT and loop.time() - began < 1
    assert not long.done()
    waiters.lost()
    assert await long == (LOST, None)


async def test_no_grace_for_a_negative_agreement_time_and_at_once_for_zero() -> None:
    values = {"OrderStatus|A": "Filled"}  # final, but no fill pushed: disagrees
    waiters = Waiters(values)
    how, _ = await waiters.order("A", settled(ONE), quantity=ONE, timeout_s=0.05, agree_s=-1)
    assert how == TIMED_OUT
    loop = asyncio.get_running_loop()
    began = loop.time()
    how, _ = await waiters.order("A", settled(ONE), quantity=ONE, timeout_s=5, agree_s=0)
    assert how == DISAGREED and loop.time() - began < 1


async def test_values_that_disagree_before_the_order_is_final_start_no_grace() -> None:
    values = {"OrderStatus|A": "Working", "Filled|A": "1", "AvgFillPrice|A": "5"}
    waiters = Waiters(values)  # a fill while working: wait for the next state
    later(0.01, lambda: push(values, waiters, ("Filled|A", "1")))
    how, _ = await waiters.order("A", settled(TWO), quantity=TWO, timeout_s=0.08, agree_s=0)
    assert how == TIMED_OUT


async def test_a_later_fill_pushed_first_in_its_read_is_stale_until_its_average() -> None:
    values = {"OrderStatus|A": "PartFilled", "Filled|A": "1", "AvgFillPrice|A": "5"}
    waiters = Waiters(values)
    later(0.01, lambda: push(values, waiters, ("Filled|A", "2"), ("OrderStatus|A", "Filled")))
    later(0.03, lambda: push(values, waiters, ("AvgFillPrice|A", "5.5")))
    how, seen = await waiters.order("A", settled(TWO), quantity=TWO, timeout_s=5, agree_s=2)
    assert (how, seen) == (AGREED, Observed("filled", TWO, Decimal("5.5")))


async def test_lost_wakes_a_key_wait_at_once() -> None:
    waiters = Waiters({})
    gone: list[int] = []
    waiting = asyncio.ensure_future(waiters.key(["K"], lambda: bool(gone), 30))
    await asyncio.sleep(0)
    assert len(waiters) == 1
    order = asyncio.ensure_future(waiters.order("A", final, quantity=None, timeout_s=5, agree_s=0))
    await asyncio.sleep(0)
    assert len(waiters) == 2  # one order waiter and one key wait
    gone.append(1)
    waiters.lost()
    assert await asyncio.wait_for(waiting, 1) is True
    assert await order == (LOST, None)


def test_the_order_keys() -> None:
    assert frozenset({"OrderStatus", "Filled", "AvgFillPrice"}) == ORDER_KEYS


async def test_three_waits_on_one_order_leave_in_any_order() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    first = waiters.start("A", final, quantity=None, timeout_s=5, agree_s=0)
    second = waiters.start("A", final, quantity=None, timeout_s=5, agree_s=0)
    third = waiters.start("A", None, quantity=ONE, timeout_s=5, agree_s=0, market=True)
    assert len(waiters) == 3 and waiters.waiting == 3
    assert not any(waiters.arm(w) for w in (first, second, third))
    waiters.finish(second)  # from the middle
    assert len(waiters) == 2 and waiters.waiting == 2
    push(values, waiters, ("OrderStatus|A", "Working"))
    assert not first.future.done() and not third.future.done()
    waiters.finish(first)
    assert waiters._orders == {"A": third}  # one left: kept alone, not in a list
    push(values, waiters, ("OrderStatus|A", "Filled"), ("Filled|A", "1"), ("AvgFillPrice|A", "5"))
    assert third.future.result() == AGREED and third.seen == Observed("filled", ONE, Decimal(5))
    waiters.finish(third)
    assert len(waiters) == 0 and waiters.waiting == 0 and waiters._orders == {}


async def test_without_ready_a_wait_ends_when_settled_for_its_kind_of_order() -> None:
    values = {"OrderStatus|A": "Working"}
    waiters = Waiters(values)
    resting = waiters.start("A", None, quantity=ONE, timeout_s=5, agree_s=0)
    assert waiters.arm(resting)  # a limit order resting at the broker: answered
    waiters.finish(resting)
    market = waiters.start("A", None, quantity=ONE, timeout_s=0.03, agree_s=0, market=True)
    assert not waiters.arm(market)  # a market order waits for its fill
    assert await market.future == TIMED_OUT
    waiters.finish(market)
    assert waiters.waiting == 0


async def test_finished_waits_are_swept_from_the_deadlines_and_live_ones_still_expire() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    live = [
        waiters.start(f"L{n}", final, quantity=None, timeout_s=0.05, agree_s=0) for n in range(10)
    ]
    assert not any(waiters.arm(w) for w in live)
    sizes = []
    for n in range(300):
        waiter = waiters.start(str(n), final, quantity=None, timeout_s=30, agree_s=0)
        assert not waiters.arm(waiter)
        push(values, waiters, (f"OrderStatus|{n}", "Filled"))
        assert waiter.future.result() == AGREED
        waiters.finish(waiter)
        sizes.append(len(waiters._deadlines))
    # swept once it holds more than 2 * 10 live + 64: never more, and it does fill up
    assert max(sizes) == 2 * 10 + 64 and min(sizes) == 10
    values["OrderStatus|now"] = "Filled"  # answered at once: never in the heap
    at_once = waiters.start("now", final, quantity=None, timeout_s=30, agree_s=0)
    assert waiters.arm(at_once)
    waiters.finish(at_once)
    assert len(waiters._deadlines) == sizes[-1]
    for waiter in live:
        assert await asyncio.wait_for(waiter.future, 1) == TIMED_OUT
        waiters.finish(waiter)


async def test_order_without_ready_or_market_waits_as_for_a_resting_order() -> None:
    values = {"OrderStatus|A": "Working"}
    how, seen = await Waiters(values).order("A", None, quantity=ONE, timeout_s=5, agree_s=0)
    assert (how, seen) == (AGREED, Observed("working", Decimal(0), None))


def test_followed_orders_hear_of_their_status_and_fill_not_of_their_average() -> None:
    waiters = Waiters({})
    heard: list[str] = []
    waiters.follow = heard.append
    waiters.on_value("OrderStatus|A", "Working")  # nothing followed: nobody told
    assert heard == []
    waiters.followed = {"A": object()}
    for key in ("OrderStatus|A", "Filled|A", "AvgFillPrice|A", "Orders|Sim101", "ATI"):
        waiters.on_value(key, "1")
    waiters.on_value("OrderStatus|B", "Working")  # the follower picks its own orders
    assert heard == ["A", "A", "B"]


async def test_every_waiter_on_one_order_is_judged_once_per_read() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    both = [
        waiters.start("A", None, quantity=TWO, timeout_s=5, agree_s=0, market=True)
        for _ in range(2)
    ]
    assert not any(waiters.arm(w) for w in both)
    pairs = (("Filled|A", "2"), ("AvgFillPrice|A", "7"), ("OrderStatus|A", "Filled"))
    for key, value in pairs:
        values[key] = value
        waiters.on_value(key, value)
    assert waiters._dirty == both  # each once, however many of its values came
    waiters.on_batch()
    for waiter in both:
        assert waiter.future.result() == AGREED and waiter.seen == Observed("filled", TWO, 7)
        assert not waiter.marked  # judged: the next read marks it again
        waiters.finish(waiter)
    assert len(waiters) == 0


_STATE_TEXTS = st.sampled_from(
    [
        *("Working", "Accepted", "TriggerPending", "Filled", "PartFilled", "Cancelled"),
        *("Canceled", "Rejected", "Unknown", "Submitted", "ChangePending", "Nonsense", ""),
    ]
)
_FILL_TEXTS = st.none() | st.sampled_from(["", "0", "1", "2", "3", "-1", "NaN", "1.5", "6000.25"])


@settings(max_examples=400)
@example("Filled", "1", "6000.25", TWO, False, False)  # a fill short of the quantity
@example("Filled", "2", "0", TWO, True, False)  # a fill without a price
@example("Filled", "2", None, TWO, True, False)
@example("Filled", None, "5", TWO, True, False)
@example("Filled", "2", "5", TWO, True, True)  # a later fill's average not pushed yet
@example("Working", "", "", ONE, True, False)  # a market order waits for its fill
@example("Working", "1", None, ONE, False, False)  # a fill without a price
@example("Cancelled", None, None, ONE, True, True)
@example("Filled", None, None, ONE, False, False)  # a final state before its fill
@example(None, None, None, None, False, False)
@given(
    status=st.none() | _STATE_TEXTS,
    filled=_FILL_TEXTS,
    average=_FILL_TEXTS,
    quantity=st.sampled_from([None, ONE, TWO, Decimal(3)]),
    market=st.booleans(),
    stale=st.booleans(),
)
async def test_the_quick_judgement_is_the_full_one(
    status: str | None,
    filled: str | None,
    average: str | None,
    quantity: Decimal | None,
    market: bool,
    stale: bool,
) -> None:
    """An order wait's check() answers the common values without Observed.settled; it
    answers exactly as settled() (the same verdict and the same observed values), for
    any values, also a second time (numbers already read), and never for a wait with a
    judge of its own that says no."""
    pushed = {"OrderStatus|A": status, "Filled|A": filled, "AvgFillPrice|A": average}
    values = {key: text for key, text in pushed.items() if text is not None}
    waiters = Waiters(values)
    for _ in range(2):  # the second time every number is in the table
        general = waiters.start(
            "A",
            lambda seen: seen.settled(quantity, market),
            quantity=quantity,
            timeout_s=5,
            agree_s=-1,
            market=market,
        )
        quick = waiters.start("A", None, quantity=quantity, timeout_s=5, agree_s=-1, market=market)
        never = waiters.start("A", lambda seen: False, quantity=quantity, timeout_s=5, agree_s=-1)
        general.stale = quick.stale = never.stale = stale
        assert quick.check() == general.check() and quick.seen == general.seen
        assert not never.check() and never.seen == general.seen
        for waiter in (general, quick, never):
            waiters.finish(waiter)


async def test_the_common_answers_are_judged_without_settled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Working, Cancelled and Filled (with its fill and price already read once) answer
    an order's wait without the general observation of its values."""
    from fks_exec_ninja import states, tracking

    states.number("3", "Filled|Z")
    states.number("6000.25", "AvgFillPrice|Z")
    monkeypatch.setattr(tracking, "observe_keys", None)  # a call would raise TypeError
    for text, market, fill, seen in [
        ("Working", False, {}, Observed("working", Decimal(0), None)),
        ("Accepted", False, {}, Observed("accepted", Decimal(0), None)),
        ("Cancelled", True, {}, Observed("cancelled", Decimal(0), None)),
        ("Rejected", False, {}, Observed("rejected", Decimal(0), None)),
        ("Filled", True, {"Filled|A": "3", "AvgFillPrice|A": "6000.25"}, None),
    ]:
        states.parse_state(text)
        values = {"OrderStatus|A": text, **fill}
        waiters = Waiters(values)
        three = Decimal(3)
        waiter = waiters.start("A", None, quantity=three, timeout_s=5, agree_s=0, market=market)
        assert waiters.arm(waiter)
        assert waiter.seen == (seen or Observed("filled", Decimal(3), Decimal("6000.25")))
        waiters.finish(waiter)


async def test_values_of_other_kinds_in_a_read_do_not_hide_the_order_values_after_them() -> None:
    values: dict[str, str] = {}
    waiters = Waiters(values)
    waiter = waiters.start("A", None, quantity=ONE, timeout_s=5, agree_s=0)
    assert not waiters.arm(waiter)
    pairs = (("Orders|Sim101", "A"), ("MarketPosition|ES|S", "0"), ("OrderStatus|A", "Working"))
    values.update(pairs)
    waiters.on_values([key for key, _ in pairs], [text for _, text in pairs])
    assert waiter.future.result() == AGREED  # judged in the same read
    assert waiter.seen == Observed("working", Decimal(0), None)
    waiters.finish(waiter)


async def test_waits_answered_in_the_order_placed_leave_the_deadlines_at_once() -> None:
    """The usual case (answers in the order the orders went): each finished wait leaves
    the deadline queue as it finishes, and the one timer is never armed again for a
    later deadline; a live wait behind them still expires."""
    values: dict[str, str] = {}
    waiters = Waiters(values)
    first = waiters.start("0", final, quantity=None, timeout_s=30, agree_s=0)
    assert not waiters.arm(first)
    timer = waiters._deadlines._timer
    assert timer is not None and waiters._deadlines._when == first.deadline
    for n in range(1, 5):
        waiter = waiters.start(str(n), final, quantity=None, timeout_s=30, agree_s=0)
        assert not waiters.arm(waiter)
    assert len(waiters._deadlines) == 5 and waiters._deadlines._timer is timer
    for n in range(5):
        push(values, waiters, (f"OrderStatus|{n}", "Filled"))
        head = waiters._deadlines._queue[0]
        waiters.finish(head)
        assert len(waiters._deadlines) == 4 - n
    later_one = waiters.start("later", final, quantity=None, timeout_s=30, agree_s=0)
    assert not waiters.arm(later_one)
    assert waiters._deadlines._timer is timer  # a later deadline: the same timer
    short = waiters.start("short", final, quantity=None, timeout_s=0.03, agree_s=0)
    assert not waiters.arm(short)
    assert waiters._deadlines._timer is not timer and waiters._deadlines._when == short.deadline
    assert await asyncio.wait_for(short.future, 1) == TIMED_OUT
    waiters.finish(short)
    waiters.finish(later_one)
    assert waiters.waiting == 0 and waiters._orders == {}


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["start", "finish"]), st.integers(0, 7), st.integers(1, 4)),
        max_size=40,
    )
)
async def test_the_timer_is_never_later_than_a_live_waits_deadline(
    steps: list[tuple[str, int, int]],
) -> None:
    """Waits of mixed lengths started and finished in any order: every wait still in
    progress is in the deadline queue, the queue is in deadline order, and the timer is
    armed at or before the earliest deadline among them (so none is missed)."""
    waiters = Waiters({})
    live: list = []
    for n, (what, pick, length) in enumerate(steps):
        if what == "start":
            waiter = waiters.start(str(n), final, quantity=None, timeout_s=length, agree_s=0)
            assert not waiters.arm(waiter)
            live.append(waiter)
        elif live:
            waiters.finish(live.pop(pick % len(live)))
        queue = list(waiters._deadlines._queue)
        assert all(waiter in queue for waiter in live)
        assert [w.deadline for w in queue] == sorted(w.deadline for w in queue)
        if live:
            timer = waiters._deadlines._timer
            assert timer is not None
            assert timer.when() == waiters._deadlines._when
            assert timer.when() <= min(w.deadline for w in live)
    for waiter in live:
        waiters.finish(waiter)
    assert waiters.waiting == 0


@pytest.mark.parametrize(
    "reads",
    [
        # the second fill's average never pushed after it
        [
            [
                ("Filled|A", "1"),
                ("AvgFillPrice|A", "5"),
                ("Filled|A", "2"),
                ("OrderStatus|A", "Filled"),
            ]
        ],
        # its average pushed before it (in its read or an earlier one): it may be the
        # first fill's, pushed late -- nothing tells which
        [
            [("AvgFillPrice|A", "5"), ("Filled|A", "1")],
            [("AvgFillPrice|A", "5.5"), ("Filled|A", "2"), ("OrderStatus|A", "Filled")],
        ],
        [
            [("Filled|A", "1")],
            [("AvgFillPrice|A", "5")],
            [("Filled|A", "2"), ("OrderStatus|A", "Filled")],
        ],
    ],
    ids=["never", "before-in-its-read", "before-in-a-read-of-its-own"],
)
async def test_a_later_fill_without_an_average_pushed_after_it_ends_stale(
    reads: list[list[tuple[str, str]]],
) -> None:
    values = {"OrderStatus|A": "Working"}
    waiters = Waiters(values)
    waiter = waiters.start("A", None, TWO, 5, 0.02, market=True)
    for delay, read in enumerate(reads):
        later(0.001 * (delay + 1), lambda r=read: push(values, waiters, *r))  # type: ignore[misc]
    how = AGREED if waiters.arm(waiter) else await waiter.future
    waiters.finish(waiter)
    assert (how, waiter.stale) == (DISAGREED, True)


def test_a_stale_average_is_current_again_once_its_average_is_pushed() -> None:
    # Nobody waits for an order and nobody follows one: the average's push alone still
    # clears the mark (lookups answer a fill from it again), another order's leaves it.
    waiters = Waiters({})
    waiters.mark_stale("A")
    waiters.mark_stale("B")
    waiters.on_value("AvgFillPrice|C", "5000")  # not a marked order: nothing changes
    waiters.on_values(["Filled|A", "OrderStatus|A"], ["2", "Filled"])  # not an average
    assert waiters.average_stale("A") and waiters.average_stale("B")
    waiters.on_value("AvgFillPrice|A", "5001.25")
    assert not waiters.average_stale("A") and waiters.average_stale("B")
    waiters.on_values(["AvgFillPrice|B"], ["5002"])
    assert not waiters.average_stale("B")


def test_ten_thousand_stale_averages_are_remembered_the_oldest_forgotten_first() -> None:
    waiters = Waiters({})
    for n in range(10_001):
        waiters.mark_stale(f"id{n}")
    assert not waiters.average_stale("id0")  # the oldest went when the 10,001st came
    assert waiters.average_stale("id1") and waiters.average_stale("id10000")
