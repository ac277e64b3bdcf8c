"""The plugin guard's paths a mutation run found unchecked (issue 12).

An impossible answer read back is reported ``unknown`` with every number dropped and a
sane quantity kept; masking copies a result only when a secret is in it; a lookup that
fails while reconciling keeps the remembered answer; times are in milliseconds; the
paper/live refusal names what the broker reported; closing never raises.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import _plugin_guard
from fks_exec.errors import BrokerUnavailable, ConfigurationError
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderSide, OrderStatus

KEY = "api-key-9a8b7c6d5e"
ORDER = Order.market("X", "buy", "2", client_order_id="guard-1")


@pytest.fixture
async def plugin(make_plugin: Any) -> Any:
    made = make_plugin("alpha")
    made.use_env = False
    await made.init({"api_key": KEY})
    yield made
    await made.close()


def _impossible(quantity: Any) -> ExecutionResult:
    return ExecutionResult.model_construct(
        success=True,
        sent=True,
        paper=None,
        status=OrderStatus.FILLED,
        plugin="alpha",
        client_order_id=ORDER.client_order_id,
        order_id="B7",
        symbol="X",
        side=OrderSide.BUY,
        quantity=quantity,
        filled_quantity=Decimal("NaN"),
        average_price=Decimal(100),
        error=None,
        error_code=None,
        raw=None,
    )


@pytest.mark.parametrize(
    ("quantity", "kept"),
    [
        (Decimal(5), Decimal(5)),
        (Decimal("0.5"), Decimal("0.5")),
        (Decimal(0), None),
        (Decimal(-1), None),
        (Decimal("Infinity"), None),
        (None, None),
    ],
)
async def test_an_impossible_answer_read_back_is_unknown_with_the_numbers_dropped(
    plugin: Any, quantity: Any, kept: Decimal | None
) -> None:
    plugin.known[ORDER.client_order_id] = _impossible(quantity)
    found = await plugin.get_order(ORDER.client_order_id)
    assert found.status is OrderStatus.UNKNOWN
    assert (found.success, found.sent, found.error_code) == (False, None, ErrorCode.UNKNOWN)
    assert found.filled_quantity == Decimal(0) and found.average_price is None
    assert found.quantity == kept
    assert found.error == (
        "broker 'alpha' answered a filled_quantity that is not a finite number (NaN); "
        "reconcile with get_order, do not resend"
    )
    assert found.order_id == "B7"  # what identifies the order is kept


async def test_a_result_without_a_secret_is_passed_on_uncopied(plugin: Any) -> None:
    clean = ExecutionResult.for_order(
        ORDER,
        plugin="alpha",
        status=OrderStatus.ACCEPTED,
        error="busy",
        raw={"note": "no secret here"},
        paper=True,
    )
    assert plugin._finish(clean) is clean
    leaked = clean.model_copy(update={"raw": {"echo": KEY}})
    masked = plugin._finish(leaked)
    assert masked is not leaked and KEY not in repr(masked.raw)


async def test_a_lookup_that_fails_while_reconciling_keeps_the_remembered_answer(
    plugin: Any,
) -> None:
    plugin.on_order = lambda order: TimeoutError("answer lost")
    first = await plugin.execute_order(ORDER)
    assert first.status is OrderStatus.UNKNOWN

    async def down(client_order_id: str) -> None:
        raise BrokerUnavailable("lookup refused")

    plugin._get_order = down
    again = await plugin.execute_order(ORDER)
    assert again.status is OrderStatus.UNKNOWN and again.error == first.error
    assert len(plugin.sent) == 1  # never resent


async def test_without_lookups_a_remembered_unknown_is_not_looked_up(
    make_plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from fks_exec.plugin import Capability

    made = make_plugin("beta")
    made.use_env = False
    made.set_capabilities(frozenset({Capability.CANCEL_ORDER}))
    await made.init({})
    try:
        made.on_order = lambda order: TimeoutError("answer lost")
        await made.execute_order(ORDER)
        with caplog.at_level("INFO", logger="fks_exec.plugins.beta"):
            again = await made.execute_order(ORDER)
        assert again.status is OrderStatus.UNKNOWN
        assert "lookup failed" not in caplog.text
    finally:
        await made.close()


def test_ms_since_is_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_plugin_guard.time, "perf_counter", lambda: 10.25)
    assert _plugin_guard.ms_since(10.0) == 250.0


@pytest.mark.parametrize(
    ("configured", "reported", "said"),
    [(False, True, "a paper (demo/simulation) account"), (True, False, "a live (real money)")],
)
async def test_a_paper_setting_the_broker_contradicts_names_what_it_reported(
    make_plugin: Any, configured: bool, reported: bool, said: str
) -> None:
    made = make_plugin("gamma")
    made.use_env = False
    made._broker_says_paper = lambda: reported
    kind = "paper" if configured else "live"
    expected = f"is configured paper={configured} ({kind}) but the broker reports {said}"
    with pytest.raises(ConfigurationError, match=re.escape(expected)):
        await made.init({"paper": configured})


async def test_a_broker_that_cannot_tell_paper_from_live_is_logged_not_fatal(
    make_plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    made = make_plugin("epsilon")
    made.use_env = False

    def unsure() -> bool:
        raise RuntimeError("no account info")

    made._broker_says_paper = unsure
    with caplog.at_level("WARNING", logger="fks_exec.plugins.epsilon"):
        await made.init({})
    try:
        assert made.is_paper is False
        assert "could not tell paper from live: no account info" in caplog.text
    finally:
        await made.close()


async def test_a_sent_order_is_logged_at_debug_with_its_status(
    plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG", logger="fks_exec.plugins.alpha"):
        await plugin.execute_order(ORDER)
    assert f"order {ORDER.client_order_id}: filled in " in caplog.text


async def test_only_the_plugins_own_class_name_is_replaced_by_its_instance_name(
    plugin: Any,
) -> None:
    def answer(name: str) -> Any:
        return lambda order: ExecutionResult.for_order(
            order, plugin=name, status=OrderStatus.ACCEPTED
        )

    plugin.on_order = answer("scripted")  # the class's name: a named instance stamps its own
    assert (await plugin.execute_order(ORDER)).plugin == "alpha"
    plugin.on_order = answer("someone-else")
    other = Order.market("X", "buy", "2", client_order_id="guard-2")
    assert (await plugin.execute_order(other)).plugin == "someone-else"


async def test_a_wrapped_error_hides_its_context_and_chains_the_cause(plugin: Any) -> None:
    async def broken(symbol: str) -> None:
        raise RuntimeError("socket closed")

    plugin._fetch_data = broken
    with pytest.raises(BrokerUnavailable) as caught:
        await plugin.fetch_data("X")
    assert caught.value.__suppress_context__ is True
    assert isinstance(caught.value.__cause__, RuntimeError)


async def test_close_never_raises_when_the_hook_fails(
    make_plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    made = make_plugin("delta")
    made.use_env = False
    await made.init({})
    made.close_error = RuntimeError("already gone")
    with caplog.at_level("WARNING", logger="fks_exec.plugins.delta"):
        await made.close()
    assert "close failed: already gone" in caplog.text
    assert not made.is_initialized


def test_an_order_that_needs_nothing_optional_asks_for_no_capability() -> None:
    class Asking(_plugin_guard.PluginGuard):
        name = "asking"

        def supports(self, capability: Any) -> bool:
            raise AssertionError(f"asked for {capability}")

    guard = Asking()
    for order in (Order.market("X", "sell", 1), Order.limit("X", "buy", 1, 10)):
        assert guard._check_supported(order) is None
