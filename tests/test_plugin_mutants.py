"""The plugin base class: the guard paths mutation testing found unchecked (issue 12).

An answer for another client order id is never passed on as this order's; refusals
say nothing was sent; a cancel's failure says whether it may have reached the broker.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from fks_exec import (
    BrokerUnavailable,
    ErrorCode,
    ExecutionResult,
    NotSupported,
    Order,
    OrderDenied,
    OrderStatus,
)
from fks_exec.redaction import MaskingFilter

KEY = "api-key-5f4e3d2c1b"


@pytest.fixture
async def plugin(make_plugin: Any) -> Any:
    made = make_plugin("alpha")
    made.use_env = False
    await made.init({"api_key": KEY})
    yield made
    await made.close()


async def test_an_answer_for_another_client_order_id_becomes_unknown(plugin: Any) -> None:
    order = Order.market("X", "buy", 1, client_order_id="asked-1")
    other = Order.market("X", "buy", 1, client_order_id="other-2")
    plugin.on_order = lambda o: ExecutionResult.for_order(
        other, plugin="alpha", status=OrderStatus.FILLED, filled_quantity=1, average_price=100
    )
    result = await plugin.execute_order(order)
    assert (result.client_order_id, result.status) == ("asked-1", OrderStatus.UNKNOWN)
    assert result.error_code is ErrorCode.UNKNOWN and result.sent is None
    assert "answered for client order id 'other-2' (a plugin bug)" in (result.error or "")


async def test_an_answer_for_the_right_id_is_passed_on_stamped(plugin: Any) -> None:
    result = await plugin.execute_order(Order.market("X", "buy", 1, client_order_id="ok-1"))
    assert (result.client_order_id, result.status, result.plugin) == ("ok-1", "filled", "alpha")
    assert result.paper is not None


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (OrderDenied("lot size 0.01"), ErrorCode.INVALID_ORDER),
        (OrderDenied("no margin", "insufficient_funds"), ErrorCode.INSUFFICIENT_FUNDS),
    ],
)
async def test_a_refusal_before_sending_is_rejected_and_not_sent(
    plugin: Any, raised: OrderDenied, code: ErrorCode
) -> None:
    async def refuse(order: Order) -> ExecutionResult:
        raise raised

    plugin._execute_order = refuse
    result = await plugin.execute_order(Order.market("X", "buy", 1))
    assert (result.status, result.sent, result.error_code) == ("rejected", False, code)
    assert "nothing was sent" in (result.error or "")


@pytest.mark.parametrize(
    ("raised", "said"),
    [
        (OrderDenied("lot size 0.01"), "lot size 0.01; nothing was sent"),
        (OrderDenied("whole lots only; nothing was sent"), "whole lots only; nothing was sent"),
        (NotSupported("no stops here"), "no stops here; nothing was sent"),
        (NotSupported("no stops; nothing was sent"), "no stops; nothing was sent"),
    ],
)
async def test_a_refusal_says_nothing_was_sent_once(
    plugin: Any, raised: Exception, said: str
) -> None:
    async def refuse(order: Order) -> ExecutionResult:
        raise raised

    plugin._execute_order = refuse
    result = await plugin.execute_order(Order.market("X", "buy", 1))
    assert result.error == said and result.sent is False


@pytest.mark.parametrize(
    ("raised", "code"),
    [(TimeoutError("read timed out"), ErrorCode.TIMEOUT), (OSError("reset"), ErrorCode.UNKNOWN)],
)
async def test_a_failure_after_sending_is_unknown_with_its_cause(
    plugin: Any, raised: Exception, code: ErrorCode
) -> None:
    plugin.on_order = lambda order: raised
    result = await plugin.execute_order(Order.market("X", "buy", 1))
    assert (result.status, result.sent, result.error_code) == ("unknown", None, code)
    assert "do not resend" in (result.error or "")


async def test_a_secret_in_a_broker_error_is_masked(plugin: Any) -> None:
    plugin.on_order = lambda order: OSError(f"bad key {KEY}")
    result = await plugin.execute_order(Order.market("X", "buy", 1))
    assert KEY not in (result.error or "") and "bad key" in (result.error or "")


# ------------------------------------------------------------------ cancel


async def test_a_cancel_refused_here_is_rejected_and_not_sent(plugin: Any) -> None:
    async def refuse(order_id: str, symbol: str | None) -> ExecutionResult:
        raise OrderDenied("order is already filled", "rejected")

    plugin._cancel_order = refuse
    result = await plugin.cancel_order("B-1", "X")
    assert (result.status, result.sent, result.error_code) == ("rejected", False, "rejected")
    assert (result.order_id, result.symbol) == ("B-1", "X")


async def test_a_cancel_without_an_answer_is_unknown(plugin: Any) -> None:
    async def lost(order_id: str, symbol: str | None) -> ExecutionResult:
        raise asyncio.TimeoutError("no answer")

    plugin._cancel_order = lost
    result = await plugin.cancel_order("B-1")
    assert (result.status, result.symbol) == ("unknown", "?")
    assert "may have reached the broker" in (result.error or "")


async def test_a_cancel_that_could_not_be_sent_raises(plugin: Any) -> None:
    async def down(order_id: str, symbol: str | None) -> ExecutionResult:
        raise BrokerUnavailable(f"socket closed (key {KEY})")

    plugin._cancel_order = down
    with pytest.raises(BrokerUnavailable, match="socket closed") as raised:
        await plugin.cancel_order("B-1")
    assert KEY not in str(raised.value)
    with pytest.raises(ValueError, match="order id"):
        await plugin.cancel_order("")


# ------------------------------------------------------------------ reads and health


async def test_a_failing_read_is_broker_unavailable_with_the_cause_masked(plugin: Any) -> None:
    async def broken(symbol: str) -> Any:
        raise OSError(f"refused for {KEY}")

    plugin._fetch_data = broken
    with pytest.raises(BrokerUnavailable, match="could not fetch 'X'") as raised:
        await plugin.fetch_data("X")
    assert KEY not in str(raised.value) and KEY not in str(raised.value.__cause__)
    with pytest.raises(ValueError, match="non-empty symbol"):
        await plugin.fetch_data("  ")


async def test_a_failing_health_check_is_unhealthy_with_a_masked_detail(plugin: Any) -> None:
    async def broken() -> Any:
        raise OSError(f"auth failed for {KEY}")

    plugin._health_check = broken
    status = await plugin.health_check()
    assert status.healthy is False and status.latency_ms is not None
    assert "auth failed" in status.detail and KEY not in status.detail
    plugin._health_check = type(plugin)._health_check.__get__(plugin)
    healthy = await plugin.health_check()
    assert healthy.healthy is True and healthy.latency_ms is not None


async def test_a_repeat_of_a_recent_unknown_is_looked_up_not_resent(plugin: Any) -> None:
    plugin.on_order = lambda order: TimeoutError("read timed out")
    visible = False
    lookup = plugin._get_order

    async def late(client_order_id: str) -> ExecutionResult | None:
        return await lookup(client_order_id) if visible else None

    plugin._get_order = late
    order = Order.market("X", "buy", 1)
    assert (await plugin.execute_order(order)).status is OrderStatus.UNKNOWN
    assert (await plugin.execute_order(order)).status is OrderStatus.UNKNOWN  # not found yet
    visible = True
    found = await plugin.execute_order(order)
    assert (found.status, found.order_id) == (OrderStatus.ACCEPTED, "S1")
    assert len(plugin.sent) == 1


async def test_a_secret_the_broker_echoes_in_its_raw_answer_is_masked(plugin: Any) -> None:
    order = Order.market("X", "buy", 1)
    plugin.on_order = lambda o: ExecutionResult.for_order(
        o, plugin="alpha", status="accepted", order_id="S1", raw={"echo": f"key={KEY}"}
    )
    result = await plugin.execute_order(order)
    assert KEY not in repr(result.raw) and "key=" in repr(result.raw)


@pytest.mark.parametrize("bad", [None, ["a", "b"], "venue=1", 7])
def test_a_hints_hook_returning_no_mapping_gives_no_hints_and_is_logged_once(
    plugin: Any, bad: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plugin._lookup_hints = lambda order, result: bad
    order = Order.market("X", "buy", 1, client_order_id="hn-1")
    with caplog.at_level("INFO", logger="fks_exec.plugins.alpha"):
        assert plugin.lookup_hints(order) == {}
        assert plugin.lookup_hints(order, None) == {}  # the second is not logged again
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "ERROR",
            f"_lookup_hints returned {type(bad).__name__}, not a mapping: no lookup hints "
            "are journaled (orders are still sent); make the hook return a dict of strings, "
            "{} for none",
        )
    ]
    assert plugin._bad_hints_logged is True


def test_a_hints_hook_returning_a_mapping_gives_its_items_as_text(plugin: Any) -> None:
    plugin._lookup_hints = lambda order, result: {"ticket": 42, 7: None}
    assert plugin.lookup_hints(Order.market("X", "buy", 1)) == {"ticket": "42", "7": "None"}
    assert plugin._bad_hints_logged is False


def test_a_hints_hook_whose_mapping_fails_to_read_gives_no_hints(
    plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(dict[str, str]):
        def items(self) -> Any:
            raise KeyError("gone")

    plugin._lookup_hints = lambda order, result: Broken()
    order = Order.market("X", "buy", 1, client_order_id="hb-1")
    with caplog.at_level("WARNING", logger="fks_exec.plugins.alpha"):
        assert plugin.lookup_hints(order) == {}
    assert [r.getMessage() for r in caplog.records] == ["no lookup hints for hb-1: 'gone'"]


async def test_mask_also_masks_held_credentials_beside_the_config_ones(plugin: Any) -> None:
    """A plugin that holds credentials beyond its config (an exchange object handed in)
    has them masked as the config's: in its texts, its results and every log record."""
    held = "held-token-9a8b7c6d"
    plugin.mask_also(["", held])
    assert plugin.redact(f"{KEY} and {held}") == "********** and **********"
    assert plugin._redactor.secrets == frozenset({KEY, held})
    plugin.on_order = lambda o: ExecutionResult.for_order(
        o, plugin="alpha", status=OrderStatus.REJECTED, error=f"echoed {held}"
    )
    result = await plugin.execute_order(Order.market("X", "buy", 1))
    assert held not in (result.error or "") and "**********" in (result.error or "")
    record = logging.LogRecord("lib", logging.INFO, __file__, 1, "header %s", (held,), None)
    assert MaskingFilter().filter(record) and held not in record.getMessage()  # every log
    before = plugin._redactor
    plugin.mask_also(["", None])  # nothing to add: the same redactor
    assert plugin._redactor is before
