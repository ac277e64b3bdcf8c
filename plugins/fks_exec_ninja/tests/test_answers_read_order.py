"""What the plugin answers, against the reference server (review bugs 5 to 8, and the
time in force of bracket exits).

- A later fill whose average price NinjaTrader pushes after ``fill_agreement_s``: the
  answer is ``unknown``, never ``filled`` at the earlier fills' average
  (docs/plugins/ninja.md, *The answer*; ``average_lag_s`` and ``piece_slippage_ticks``
  make the server push it late and different).
- A cancel of a part-filled order says what filled, at its average.
- A CANCEL NinjaTrader answers with no state (it sends no acknowledgement: help
  "Commands and Valid Parameters", the order's state is the only answer) is
  ``unknown``, not ``rejected``.
- A quantity the DLL cannot carry (``Client.Command(..., int quantity, ...)``: Int32)
  is refused before sending.
- Bracket exits are good till cancelled whatever the entry's time in force.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import ErrorCode, Executor, Order, OrderStatus, PluginRegistry
from fks_exec_ninja.mapping import order_id_for
from fks_exec_ninja.testing.reference import (
    InvalidCommand,
    PushOrder,
    ReferenceAtiServer,
    Repetition,
    ServerSettings,
    combinations,
)

from .ninja_helpers import ES, running, start
from .test_bracket_sizes import fill_part

PUSHES = list(combinations("push_order", "repetition"))
MAX_QUANTITY = 2**31 - 1  # DLL Client.Command takes the quantity as a C# int


def name(settings: ServerSettings) -> str:
    return f"{settings.push_order.name}-{settings.repetition.value}"


# ------------------------------------------------------------ bug 5: a late average


@pytest.mark.parametrize("late", [True, False], ids=["late", "in-time"])
@pytest.mark.parametrize("push", PUSHES, ids=name)
async def test_a_second_fill_whose_average_comes_late_is_unknown_never_the_stale_one(
    push: ServerSettings, late: bool
) -> None:
    """Two pieces, the second a tick worse; every average pushed 0.2 s after the rest
    of its update. Waited for longer than that (``in-time``): ``filled`` at the true
    average. Not (``late``): ``unknown`` -- the first fill's average is still the one
    pushed -- and ``get_order`` has the true one once it is pushed."""
    server = push.with_(
        fill_pieces=2, piece_slippage_ticks=4, step_interval_s=0.3, average_lag_s=0.2
    )
    async with running(server, fill_agreement_s=0.05 if late else 0.5) as (nt, plugin):
        result = await plugin.execute_order(Order.market("ES", "buy", 2))
        truth = nt.order(result.order_id or "")
        assert truth is not None and truth.filled == 2
        assert truth.avg_fill_price == Decimal("6000.75")  # 6000.25 and 6001.25
        if not late:
            assert (result.status, result.filled_quantity) == (OrderStatus.FILLED, 2)
            assert result.average_price == truth.avg_fill_price
            return
        assert (result.status, result.sent, result.error_code) == (
            OrderStatus.UNKNOWN,
            True,
            ErrorCode.UNKNOWN,
        )
        assert result.average_price is None and "no average price after it" in (result.error or "")
        await nt.flushed()
        found = await plugin.get_order(result.client_order_id or "")
        assert found is not None and found.average_price == truth.avg_fill_price


@pytest.mark.parametrize("push", PUSHES, ids=name)
async def test_an_average_later_than_the_answer_is_what_the_executor_journals(
    push: ServerSettings,
) -> None:
    """The second piece's average comes 0.2 s after its fill, past ``fill_agreement_s``
    (0.15 s): the answer is ``unknown``, and the executor's reconciliation, which looks
    the order up at once, must journal the true average, not the first piece's (the
    lookup waits up to ``fill_agreement_s`` more for it)."""
    server = push.with_(
        fill_pieces=2, piece_slippage_ticks=4, step_interval_s=0.3, average_lag_s=0.2
    )
    async with ReferenceAtiServer(server) as nt:
        plugin = await start(nt, fill_agreement_s=0.15)
        registry = PluginRegistry(discover=False)
        registry.register("ninja", plugin)
        async with Executor(registry, default="ninja", journal="memory") as executor:
            result = await executor.execute(Order.market("ES", "buy", 2))
            truth = nt.order(result.order_id or "")
            assert truth is not None and truth.avg_fill_price == Decimal("6000.75")
            assert (result.status, result.filled_quantity) == (OrderStatus.FILLED, 2)
            assert result.average_price == truth.avg_fill_price, result
            entry = await executor.journal.get(result.client_order_id or "")
            assert entry is not None and entry.result is not None
            assert entry.result.average_price == truth.avg_fill_price


# ------------------------------------------------------------ bug 6: a cancel's fill


@pytest.mark.parametrize("push", PUSHES, ids=name)
async def test_the_cancel_of_a_part_filled_order_says_what_filled(push: ServerSettings) -> None:
    async with running(push) as (nt, plugin):
        order = Order.limit("ES", "buy", 3, "5990")
        placed = await plugin.execute_order(order)
        assert placed.status is OrderStatus.ACCEPTED and placed.order_id is not None
        fill_part(nt, placed.order_id, 1, "5990")
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 1)
        await nt.flushed()
        cancelled = await plugin.cancel_order(placed.order_id)
        assert (cancelled.status, cancelled.filled_quantity, cancelled.average_price) == (
            OrderStatus.CANCELED,
            1,
            Decimal(5990),
        )
        assert cancelled.client_order_id == order.client_order_id
        found = await plugin.get_order(order.client_order_id)
        assert found is not None and found.filled_quantity == cancelled.filled_quantity


# ------------------------------------------------------------ bug 7: no answer


@pytest.mark.parametrize("invalid", list(InvalidCommand), ids=lambda i: i.value)
async def test_a_cancel_ninjatrader_pushes_no_state_for_is_unknown_not_rejected(
    invalid: InvalidCommand,
) -> None:
    """An id NinjaTrader has no order under (or did not push again since connecting):
    the CANCEL was written and nothing came back in ``order_timeout_s``."""
    server = ServerSettings(invalid_command=invalid)
    async with running(server, order_timeout_s=0.3) as (nt, plugin):
        result = await plugin.cancel_order("a" * 32, "ES")
        assert (result.status, result.error_code, result.sent) == (
            OrderStatus.UNKNOWN,
            ErrorCode.TIMEOUT,
            None,
        )
        assert "was written" in (result.error or "") and nt.commands[-1].text.startswith("CANCEL")


async def test_a_cancel_whose_connection_drops_before_ninjatrader_acts_is_unknown() -> None:
    async with running(order_timeout_s=2) as (nt, plugin):
        placed = await plugin.execute_order(Order.limit("ES", "buy", 1, "5000"))
        nt.lose_next_answer(after_broker_acted=False)
        result = await plugin.cancel_order(placed.order_id or "")
        assert (result.status, result.error_code) == (OrderStatus.UNKNOWN, ErrorCode.NETWORK)
        assert "connection dropped" in (result.error or "")
        assert nt.order(placed.order_id or "").state == "Working"  # type: ignore[union-attr]


# ------------------------------------------------------------ bug 8: too big


@pytest.mark.parametrize("invalid", list(InvalidCommand), ids=lambda i: i.value)
async def test_a_quantity_the_dll_cannot_carry_is_refused_before_sending(
    invalid: InvalidCommand,
) -> None:
    async with running(ServerSettings(invalid_command=invalid)) as (nt, plugin):
        for quantity in (MAX_QUANTITY + 1, Decimal("1E+12")):
            result = await plugin.execute_order(Order.market("ES", "buy", quantity))
            assert (result.status, result.sent) == (OrderStatus.REJECTED, False)
            assert result.error_code is ErrorCode.INVALID_ORDER
            assert str(MAX_QUANTITY) in (result.error or "")
        assert nt.commands == []
        largest = Order.limit("ES", "buy", MAX_QUANTITY, "5000")
        assert (await plugin.execute_order(largest)).sent is True  # the largest one goes


# ------------------------------------------------------------ note: exits' TIF


@pytest.mark.parametrize("tif", ["day", "gtc"])
async def test_bracket_exits_are_good_till_cancelled_whatever_the_entrys_time_in_force(
    tif: str,
) -> None:
    """A DAY exit would expire at the session's end and leave an overnight position
    without a stop: exits are GTC, also for a DAY entry (docs/plugins/ninja.md)."""
    async with running(ServerSettings(push_order=PushOrder.FILLED_AVG_STATUS)) as (nt, plugin):
        entry = Order.market(
            "ES", "buy", 1, stop_loss="5900", take_profit="6100", time_in_force=tif
        )
        await plugin.execute_order(entry)
        exits = [order_id_for(entry.client_order_id, s) for s in ("-sl", "-tp")]
        await nt.wait_until(lambda: all(nt.order(i) is not None for i in exits))
        assert nt.order(order_id_for(entry.client_order_id)).tif == tif.upper()  # type: ignore[union-attr]
        assert [nt.order(i).tif for i in exits] == ["GTC", "GTC"]  # type: ignore[union-attr]


def test_repetition_is_swept_here() -> None:
    assert {s.repetition for s in PUSHES} == set(Repetition)
