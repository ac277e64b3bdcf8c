"""The worker-side session when the terminal fails part-way: what is refused, what is
reported as a lost link, and what is sent (nothing, unless the test says so).

Failures come from the reference fake's own fault protocol (``fail_next``) or from
:class:`Scripted`, which replaces one function's next answers of the fake, the way a
terminal that loses a symbol or a tick between two calls does.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import Order, OrderStatus
from fks_exec.errors import OrderDenied
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.session import RULES_CHANGED, LinkDown, Mt5Session, NotSent, retcode_or_none

from .conftest import MAGIC
from .scripted import IPC_DOWN, Record, Scripted, changed, hedged_pair, nothing, requote

D = Decimal


# --------------------------------------------------------------------------- symbols


def test_a_symbol_the_broker_lacks_is_refused_and_a_lost_link_is_not(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    session = plugin.session
    with pytest.raises(OrderDenied, match="the broker has no symbol 'NOPE'"):
        session.rules("NOPE")
    scripted.terminal.fail_next("symbol_info", IPC_DOWN)
    with pytest.raises(LinkDown, match=f"symbol_info failed \\({IPC_DOWN}, "):
        session.rules("XAUUSD")


def test_a_symbol_outside_market_watch_is_selected_first(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    scripted.terminal.symbol_select("XAUUSD", False)
    rules = plugin.session.rules("XAUUSD")
    assert rules.name == "XAUUSD"
    assert scripted.terminal.symbol_info("XAUUSD").select  # selected by the plugin


def test_selecting_a_symbol_that_fails_is_a_lost_link_named_so(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    scripted.terminal.symbol_select("XAUUSD", False)
    scripted.terminal.fail_next("symbol_select", IPC_DOWN)
    with pytest.raises(LinkDown, match="selecting XAUUSD in Market Watch failed"):
        plugin.session.rules("XAUUSD")
    scripted.terminal.symbol_select("USDJPY", False)
    scripted.then("symbol_info", lambda real, *a, **k: real(*a, **k)).then("symbol_info", nothing)
    with pytest.raises(LinkDown, match="symbol_info\\('USDJPY'\\) failed"):
        plugin.session.rules("USDJPY")
    assert not scripted.sent


# --------------------------------------------------------------------------- positions


def test_no_positions_is_an_empty_list_and_a_failed_read_is_a_lost_link(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    scripted.then("positions_get", nothing)  # None with last_error (1, 'Success')
    assert plugin.session.tickets("EURUSD") == []
    scripted.terminal.fail_next("positions_get", IPC_DOWN)
    with pytest.raises(LinkDown, match="positions_get failed"):
        plugin.session.tickets("EURUSD")


async def test_a_volume_limit_read_that_fails_sends_nothing(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    scripted.terminal.update_symbol("EURUSD", volume_limit=D(10))
    plugin.session.forget_symbols()
    scripted.terminal.fail_next("orders_get", IPC_DOWN)
    with pytest.raises(LinkDown, match="orders_get failed"):
        plugin.session.place(Order.market("EURUSD", "buy", "0.1"))
    assert not scripted.sent


@pytest.mark.parametrize(
    ("account", "kind", "volume_limit", "read"),
    [
        ("hedged", "limit", 0, False),  # opens its own ticket, carries its own SL/TP
        ("hedged", "stop", 0, False),
        ("hedged", "limit", "0.5", True),  # the limit counts the positions
        ("hedged", "market", 0, True),  # closes this program's opposite tickets first
        ("netted", "limit", 0, True),  # carries the position's SL/TP, or is refused
        ("netted", "market", 0, True),
    ],
)
def test_positions_are_read_unless_the_order_cannot_depend_on_them(
    account: str, kind: str, volume_limit: int | str, read: bool, request: pytest.FixtureRequest
) -> None:
    plugin, scripted = request.getfixturevalue(account)
    if volume_limit:
        scripted.terminal.update_symbol("EURUSD", volume_limit=D(volume_limit))
        plugin.session.forget_symbols()
    calls: list[Any] = []
    scripted.then("positions_get", lambda real, *a, **k: calls.append(k) or real(*a, **k))
    tick = scripted.terminal.symbol_info_tick("EURUSD")
    if kind == "market":
        order = Order.market("EURUSD", "buy", "0.1")
    elif kind == "limit":
        order = Order.limit("EURUSD", "buy", "0.1", D(str(tick.ask)) - D("0.01"))
    else:
        order = Order.stop("EURUSD", "buy", "0.1", D(str(tick.ask)) + D("0.01"))
    placed = plugin.session.place(order)
    assert placed.answers[0].sent.retcode in (c.TRADE_RETCODE_DONE, c.TRADE_RETCODE_PLACED)
    assert calls == ([{"symbol": "EURUSD"}] if read else [])


def test_a_hedging_pending_order_sends_the_same_without_the_positions_read(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    """Against held tickets both ways, a pending order's request is what it was when
    the positions were read (nothing in it comes from them)."""
    plugin, scripted = hedged
    session = plugin.session
    for side in ("buy", "sell"):
        assert session.place(Order.market("EURUSD", side, "0.2")).answers[0].sent.deal
    tick = scripted.terminal.symbol_info_tick("EURUSD")
    order = Order.limit("EURUSD", "sell", "0.1", D(str(tick.bid)) + D("0.01"), stop_loss=D("1.3"))
    session.place(order)
    session.hedging = False  # the same request planned the way that reads positions...
    scripted.terminal.update_symbol("EURUSD", volume_limit=D(100))
    session.forget_symbols()
    session.place(order.model_copy())
    first, second = scripted.sent[-2:]
    assert first == second


# --------------------------------------------------------------------------- planning


def _longs(plugin: Mt5Plugin, *lots: str) -> None:
    """This program's long tickets of EURUSD, one per size, oldest first."""
    for size in lots:
        assert plugin.session.place(Order.market("EURUSD", "buy", size)).answers[0].sent.deal


def test_an_exit_over_tickets_takes_a_fresh_price_for_every_leg_after_the_first(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    """The first leg goes at the planned price; each later one at a tick read just
    before it (the market moved while the earlier legs were sent)."""
    plugin, scripted = hedged
    _longs(plugin, "0.1", "0.1")
    planned = scripted.terminal.symbol_info_tick("EURUSD")
    scripted.then("symbol_info_tick", lambda real, *a, **k: real(*a, **k))  # the plan's
    scripted.then("symbol_info_tick", changed(bid=planned.bid - 0.0001))  # before leg 2
    placed = plugin.session.place(Order.market("EURUSD", "sell", "0.2"))
    assert [a.sent.retcode for a in placed.answers] == [c.TRADE_RETCODE_DONE] * 2
    first, second = scripted.sent[-2:]
    assert first["price"] == planned.bid
    assert second["price"] == pytest.approx(planned.bid - 0.0001)


def test_an_exit_over_tickets_whose_first_leg_is_refused_unsent_raises(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    """Only the first leg's refusal before sending means the whole order was not sent."""
    plugin, scripted = hedged
    _longs(plugin, "0.1", "0.1")
    sent_before = len(scripted.sent)
    scripted.terminal.fail_next("order_send", c.RES_E_INVALID_PARAMS)
    with pytest.raises(NotSent):
        plugin.session.place(Order.market("EURUSD", "sell", "0.2"))
    assert len(scripted.sent) == sent_before + 1  # that one attempt, and no other leg


@pytest.mark.parametrize(
    ("fault", "leg"),
    [
        ("lost", 1),  # no answer: it may have reached the server
        ("lost", 2),
        ("refused", 2),  # a later leg refused before sending
        ("no price", 2),  # a later leg without a fresh price
    ],
)
def test_no_leg_is_sent_after_one_that_did_not_complete(
    hedged: tuple[Mt5Plugin, Scripted], fault: str, leg: int
) -> None:
    plugin, scripted = hedged
    _longs(plugin, "0.1", "0.1", "0.1")
    sent_before = len(scripted.sent)
    for _ in range(leg - 1):
        scripted.then("order_send", lambda real, *a, **k: real(*a, **k))
    if fault == "no price":
        scripted.then("symbol_info_tick", lambda real, *a, **k: real(*a, **k))  # the plan's
        scripted.then("symbol_info_tick", nothing)  # leg 2 has none (leg 3 would follow)
    elif fault == "lost":
        scripted.then("order_send", lambda real, *a, **k: None)
        scripted.then("last_error", lambda real: (c.RES_E_INTERNAL_FAIL_RECEIVE, "lost"))
    else:
        scripted.then("order_send", lambda real, *a, **k: None)
        scripted.then("last_error", lambda real: (c.RES_E_INVALID_PARAMS, "refused"))
    placed = plugin.session.place(Order.market("EURUSD", "sell", "0.3"))
    assert len(placed.answers) == leg
    assert placed.answers[-1].sent is None
    assert len(scripted.sent) - sent_before == (leg - 1 if fault == "no price" else leg)


@pytest.mark.parametrize(
    ("lots", "refused"),
    [
        ("0.2", False),  # closes both tickets: opens nothing
        ("0.3", True),  # closes both and opens 0.1 short
        ("0.1", False),  # closes the older one only
    ],
)
def test_a_close_only_symbol_takes_exits_over_tickets_but_no_opening_rest(
    hedged: tuple[Mt5Plugin, Scripted], lots: str, refused: bool
) -> None:
    plugin, scripted = hedged
    _longs(plugin, "0.1", "0.1")
    scripted.terminal.update_symbol("EURUSD", trade_mode=c.SYMBOL_TRADE_MODE_CLOSEONLY)
    plugin.session.forget_symbols()
    order = Order.market("EURUSD", "sell", lots)
    if refused:
        with pytest.raises(OrderDenied, match="close-only"):
            plugin.session.place(order)
    else:
        assert all(a.sent.deal for a in plugin.session.place(order).answers)


def test_reduce_only_pending_orders_are_refused(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    order = Order.limit("EURUSD", "sell", "0.1", D("1.2"), reduce_only=True)
    with pytest.raises(OrderDenied, match="no reduce-only pending orders") as refused:
        plugin.session.place(order)
    assert refused.value.error_code == "not_supported" and not scripted.sent


async def test_stops_carried_from_a_netting_position_say_where_they_came_from(
    netted: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = netted
    tick = scripted.terminal.symbol_info_tick("EURUSD")
    stop = (D(repr(tick.bid)) - D("0.005")).quantize(D("0.00001"))
    first = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1", stop_loss=stop))
    assert first.status is OrderStatus.FILLED
    sent = len(scripted.sent)
    scripted.terminal.update_symbol("EURUSD", stops_level_points=2_000)  # 0.02: too near now
    plugin.session.forget_symbols()
    with pytest.raises(OrderDenied, match="came from the open EURUSD position"):
        plugin.session.place(Order.market("EURUSD", "buy", "0.1"))
    with pytest.raises(OrderDenied) as own:  # the order's own stop: no such explanation
        plugin.session.place(Order.market("EURUSD", "buy", "0.1", stop_loss=stop))
    assert "came from" not in str(own.value)
    assert len(scripted.sent) == sent


async def test_a_hedging_close_leg_below_the_minimum_volume_is_refused_before_any_leg(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    for _ in range(2):
        opened = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
        assert opened.status is OrderStatus.FILLED
    sent = len(scripted.sent)
    scripted.terminal.update_symbol("EURUSD", volume_min=D("0.05"))
    plugin.session.forget_symbols()
    with pytest.raises(OrderDenied, match=r"closing 0.02 lots of position \d+ is below the mini"):
        plugin.session.place(Order.market("EURUSD", "sell", "0.12"))
    assert len(scripted.sent) == sent
    assert scripted.terminal.net_volume("EURUSD", MAGIC) == D("0.2")


# --------------------------------------------------------------------------- sending


@pytest.mark.parametrize(
    "tick",
    [nothing, changed(ask=float("nan")), changed(ask=0.0)],
    ids=["no tick", "a tick without a price", "an ask of 0"],
)
def test_a_requote_without_a_fresh_price_stops_with_nothing_more_sent(
    hedged: tuple[Mt5Plugin, Scripted], tick: Callable[..., Any]
) -> None:
    plugin, scripted = hedged
    scripted.then("order_send", requote).then("symbol_info_tick", lambda r, *a: r(*a))
    scripted.then("symbol_info_tick", tick)
    placed = plugin.session.place(Order.market("EURUSD", "buy", "0.1"))
    (answer,) = placed.answers
    assert answer.unsent == "no fresh price for EURUSD" and answer.sent is None
    assert len(scripted.sent) == 1


def test_a_requote_is_resent_at_the_fresh_price(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    scripted.then("order_send", requote)
    placed = plugin.session.place(Order.market("EURUSD", "buy", "0.1"))
    assert retcode_or_none(placed.answers[0].sent) == c.TRADE_RETCODE_DONE
    first, second = scripted.sent
    assert second["price"] == scripted.terminal.symbol_info_tick("EURUSD").ask
    assert {**first, "price": 0} == {**second, "price": 0}


def test_a_resend_the_link_refuses_is_reported_as_not_sent(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    scripted.then("order_send", requote)
    scripted.terminal.fail_next("order_send", IPC_DOWN)
    placed = plugin.session.place(Order.market("EURUSD", "buy", "0.1"))
    (answer,) = placed.answers
    assert answer.unsent is not None and answer.sent is None
    assert answer.unsent.startswith(f"order_send failed before sending ({IPC_DOWN}, ")


def test_no_resend_once_the_requotes_are_used_up(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    retries = plugin.session.cfg.requote_retries
    for _ in range(retries + 1):
        scripted.then("order_send", requote)
    placed = plugin.session.place(Order.market("EURUSD", "buy", "0.1"))
    assert retcode_or_none(placed.answers[0].sent) == c.TRADE_RETCODE_REQUOTE
    assert len(scripted.sent) == retries + 1


def _symbol_reads(scripted: Scripted, plugin: Mt5Plugin, retcode: int) -> int:
    """symbol_info calls of an order sent after one the server answered ``retcode``."""
    session = plugin.session
    session.place(Order.market("EURUSD", "buy", "0.1"))  # the rules are cached now
    refused = changed(retcode=retcode, deal=0, volume=0.0, price=0.0)
    scripted.then("order_send", refused)
    session.place(Order.market("EURUSD", "buy", "0.1"))
    reads: list[str] = []

    def counted(real: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        reads.append(args[0])
        return real(*args, **kwargs)

    for _ in range(3):
        scripted.then("symbol_info", counted)
    session.place(Order.market("EURUSD", "buy", "0.1"))
    return len(reads)


@pytest.mark.parametrize("retcode", sorted(RULES_CHANGED))
def test_a_retcode_the_symbols_rules_explain_drops_the_cached_rules(
    hedged: tuple[Mt5Plugin, Scripted], retcode: int
) -> None:
    plugin, scripted = hedged
    assert _symbol_reads(scripted, plugin, retcode) == 1  # read again, once


@pytest.mark.parametrize(
    "retcode",
    [c.TRADE_RETCODE_DONE, c.TRADE_RETCODE_REJECT, c.TRADE_RETCODE_NO_MONEY, 10015, 10029],
)
def test_other_retcodes_keep_the_cached_rules(
    hedged: tuple[Mt5Plugin, Scripted], retcode: int
) -> None:
    plugin, scripted = hedged
    assert _symbol_reads(scripted, plugin, retcode) == 0


def test_the_rules_changed_set_is_the_specification_codes() -> None:
    specification = {10014, 10016, 10017, 10018, 10022, 10030, 10034, 10042, 10043, 10044}
    assert specification == RULES_CHANGED


@pytest.mark.parametrize("retcode", [None, "10009", 1.5, True])
def test_a_retcode_that_is_not_a_number_is_none(retcode: Any) -> None:
    assert retcode_or_none(Record({"retcode": retcode})) is None
    assert retcode_or_none(Record({"retcode": 10009})) == 10009


# --------------------------------------------------------------------------- volumes


def test_rounded_lots_are_remembered_per_specification_and_refusals_are_not(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    """A quantity rounds once per symbol specification; new rules (a changed volume
    step) round it afresh, and a refused quantity is refused every time."""
    plugin, scripted = hedged
    session = plugin.session
    rules = session.rules("EURUSD")
    assert session.lots(D("0.129"), rules) == D("0.12")
    assert session.lots(D("0.1290"), rules) == D("0.12")  # another text: rounded too
    for _ in range(2):
        with pytest.raises(OrderDenied, match="below the minimum"):
            session.lots(D("0.001"), rules)
    session.forget_symbols()
    scripted.then("symbol_info", changed(volume_step=0.05, volume_min=0.05))
    coarser = session.rules("EURUSD")
    assert coarser is not rules and coarser.step == D("0.05")
    assert session.lots(D("0.129"), coarser) == D("0.1")  # rounded on the new step
    assert session.lots(D("0.129"), rules) == D("0.12")  # the old rules: their own answer


def test_at_most_64_rounded_lots_are_remembered_per_symbol(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, _ = hedged
    session = plugin.session
    rules = session.rules("EURUSD")
    sizes = [D(n) / 100 for n in range(1, 101)]
    assert [session.lots(size, rules) for size in sizes] == sizes
    remembered = session._memos["EURUSD"].volumes
    # the first 64, by their text; later sizes are rounded each time
    assert list(remembered) == [str(size) for size in sizes[:64]]
    assert session.lots(sizes[99], rules) == sizes[99]


def test_the_filling_is_chosen_once_per_specification_kind_and_time_in_force(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    """As the lots: new rules (other filling flags) choose afresh, a refusal is raised
    every time, and each order kind and time in force has its own choice."""
    plugin, scripted = hedged
    session = plugin.session
    rules = session.rules("EURUSD")
    market = Order.market("EURUSD", "buy", "0.1")
    ioc = Order.market("EURUSD", "buy", "0.1", time_in_force="ioc")
    assert session.filling(market, rules) == c.ORDER_FILLING_FOK
    assert session.filling(ioc, rules) == c.ORDER_FILLING_IOC
    assert session.filling(market, rules) == c.ORDER_FILLING_FOK  # remembered apart
    session.forget_symbols()
    scripted.then("symbol_info", changed(filling_mode=c.SYMBOL_FILLING_IOC))
    ioc_only = session.rules("EURUSD")
    assert session.filling(market, ioc_only) == c.ORDER_FILLING_IOC
    for _ in range(2):
        with pytest.raises(OrderDenied, match="takes no fok market order"):
            session.filling(Order.market("EURUSD", "buy", "0.1", time_in_force="fok"), ioc_only)
    assert session.filling(market, rules) == c.ORDER_FILLING_FOK  # the old rules: their own


# --------------------------------------------------------------------------- close-by


def test_a_close_by_without_an_answer_stops_with_last_error(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    hedged_pair(scripted.terminal)
    scripted.terminal.fail_next("order_send", c.RES_E_INTERNAL_FAIL_TIMEOUT)
    done = plugin.session.close_pairs("EURUSD", "pair")
    ((first, second, answer),) = done
    assert first.buy != second.buy and answer[0] == c.RES_E_INTERNAL_FAIL_TIMEOUT
    assert len(plugin.session.tickets("EURUSD")) == 2


def test_a_refused_close_by_stops_the_pairing(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    hedged_pair(scripted.terminal)
    hedged_pair(scripted.terminal)
    refused = Record({"retcode": c.TRADE_RETCODE_REJECT, "comment": "Request rejected"})
    scripted.then("order_send", lambda real, request: refused)
    done = plugin.session.close_pairs("EURUSD", "pair")
    assert [answer for _, _, answer in done] == [refused]
    assert len(scripted.sent) == 1 and len(plugin.session.tickets("EURUSD")) == 4


# --------------------------------------------------------------------------- working orders


def test_finding_a_working_order_tells_a_lost_link_from_no_order(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    session: Mt5Session = plugin.session
    assert session.find_working(123) is None
    scripted.terminal.fail_next("orders_get", IPC_DOWN)
    with pytest.raises(LinkDown, match="orders_get failed"):
        session.find_working(123)
    scripted.terminal.fail_next("orders_get", c.RES_E_NOT_FOUND)
    assert session.find_working(123) is None
