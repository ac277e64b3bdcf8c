"""The worker-side session when the terminal fails part-way: what is refused, what is
reported as a lost link, and what is sent (nothing, unless the test says so).

Failures come from the reference fake's own fault protocol (``fail_next``) or from
:class:`Scripted`, which replaces one function's next answers of the fake, the way a
terminal that loses a symbol or a tick between two calls does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from fks_exec import Order, OrderStatus
from fks_exec.errors import OrderDenied
from fks_exec.kit import BadBrokerNumber
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.session import LinkDown, Mt5Session, retcode_or_none
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started

D = Decimal
IPC_DOWN = c.RES_E_INTERNAL_FAIL_CONNECT  # the link is down: nothing was sent


class Scripted:
    """The fake, with the next answers of chosen functions replaced in turn."""

    def __init__(self, terminal: FakeMetaTrader5) -> None:
        self.terminal = terminal
        self.next: dict[str, deque[Callable[..., Any]]] = {}
        self.sent: list[dict[str, Any]] = []

    def then(self, function: str, answer: Callable[..., Any]) -> Scripted:
        """The next call of ``function`` gets ``answer(real, *args, **kwargs)``."""
        self.next.setdefault(function, deque()).append(answer)
        return self

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.terminal, name)
        answers = self.next.get(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if name == "order_send":
                self.sent.append(args[0])
            if answers:
                return answers.popleft()(real, *args, **kwargs)
            return real(*args, **kwargs)

        return call


def nothing(real: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    return None


def changed(**fields: Any) -> Callable[..., Any]:
    """The real answer with ``fields`` replaced."""

    def answer(real: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        value = real(*args, **kwargs)
        return _Record({**value._asdict(), **fields})

    return answer


class _Record:
    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__.update(fields)
        self._fields = fields

    def _asdict(self) -> dict[str, Any]:
        return dict(self._fields)


@pytest.fixture
async def hedged(hedging: FakeMetaTrader5) -> AsyncIterator[tuple[Mt5Plugin, Scripted]]:
    plugin = await started(hedging)
    scripted = Scripted(hedging)
    plugin.session.mt5 = scripted
    yield plugin, scripted
    await plugin.close()


@pytest.fixture
async def netted(netting: FakeMetaTrader5) -> AsyncIterator[tuple[Mt5Plugin, Scripted]]:
    plugin = await started(netting)
    scripted = Scripted(netting)
    plugin.session.mt5 = scripted
    yield plugin, scripted
    await plugin.close()


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


# --------------------------------------------------------------------------- planning


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


def requote(real: Callable[..., Any], request: dict[str, Any]) -> Any:
    """A requote answer (10004), the server having done nothing."""
    return _Record(
        {
            "retcode": c.TRADE_RETCODE_REQUOTE,
            "deal": 0,
            "order": 0,
            "volume": 0.0,
            "price": 0.0,
            "bid": 1.1,
            "ask": 1.1002,
            "comment": "Requote",
            "request_id": 1,
            "retcode_external": 0,
        }
    )


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


@pytest.mark.parametrize("retcode", [None, "10009", 1.5, True])
def test_a_retcode_that_is_not_a_number_is_none(retcode: Any) -> None:
    assert retcode_or_none(_Record({"retcode": retcode})) is None
    assert retcode_or_none(_Record({"retcode": 10009})) == 10009


# --------------------------------------------------------------------------- close-by


def _hedged_pair(terminal: FakeMetaTrader5) -> None:
    """A long and a short ticket of this program (as two pending orders that filled
    leave them): sent straight to the fake, which opens a ticket per deal."""
    for kind in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
        tick = terminal.symbol_info_tick("EURUSD")
        opened = terminal.order_send(
            {
                "action": c.TRADE_ACTION_DEAL,
                "symbol": "EURUSD",
                "volume": 0.1,
                "type": kind,
                "price": tick.ask if kind == c.ORDER_TYPE_BUY else tick.bid,
                "deviation": 10,
                "magic": MAGIC,
                "type_filling": c.ORDER_FILLING_FOK,
                "type_time": c.ORDER_TIME_GTC,
            }
        )
        assert opened.retcode == c.TRADE_RETCODE_DONE, opened


def test_a_close_by_without_an_answer_stops_with_last_error(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    _hedged_pair(scripted.terminal)
    scripted.terminal.fail_next("order_send", c.RES_E_INTERNAL_FAIL_TIMEOUT)
    done = plugin.session.close_pairs("EURUSD", "pair")
    ((first, second, answer),) = done
    assert first.buy != second.buy and answer[0] == c.RES_E_INTERNAL_FAIL_TIMEOUT
    assert len(plugin.session.tickets("EURUSD")) == 2


def test_a_refused_close_by_stops_the_pairing(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    _hedged_pair(scripted.terminal)
    _hedged_pair(scripted.terminal)
    refused = _Record({"retcode": c.TRADE_RETCODE_REJECT, "comment": "Request rejected"})
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


# --------------------------------------------------------------------------- history window

NOW_S = 1_700_000_000.75


@pytest.mark.parametrize(
    ("offset_minutes", "days", "expected"),
    [
        (120, 7, (1_700_000_000 + 7_200 - 7 * 86_400, 1_700_000_000 + 7_200 + 86_400)),
        (-300, 2, (1_700_000_000 - 18_000 - 2 * 86_400, 1_700_000_000 - 18_000 + 86_400)),
        # offset not known yet: 14 hours of slack either way (the widest zone)
        (None, 3, (1_700_000_000 - 3 * 86_400 - 50_400, 1_700_000_000 + 86_400 + 50_400)),
    ],
)
def test_the_history_window_covers_the_days_asked_until_tomorrow_in_server_time(
    monkeypatch: pytest.MonkeyPatch,
    offset_minutes: int | None,
    days: int,
    expected: tuple[int, int],
) -> None:
    import fks_exec_mt5.session as session_module
    from fks_exec_mt5.config import Mt5Config

    monkeypatch.setattr(session_module, "time", SimpleNamespace(time=lambda: NOW_S))
    config = Mt5Config(server_utc_offset_minutes=offset_minutes, history_days=days)
    session = Mt5Session(None, config, magic=1, hedging=False, fifo=False)
    assert session.history_window() == expected


# --------------------------------------------------------------------------- tick stamps


@pytest.mark.parametrize(
    ("stamp", "named"),
    [(32_503_680_000_000, "is not a time"), (-1, "is negative"), (2.5, "not an integer")],
)
def test_a_tick_stamp_that_is_not_a_time_is_refused(
    hedged: tuple[Mt5Plugin, Scripted], stamp: Any, named: str
) -> None:
    plugin, scripted = hedged
    scripted.then("symbol_info_tick", changed(time_msc=stamp))
    with pytest.raises(BadBrokerNumber, match=f"tick EURUSD time_msc.*{named}"):
        plugin.session.tick("EURUSD")
    assert plugin.session.tick("EURUSD").time_msc > 0  # the next, sound tick is read


# --------------------------------------------------------------------------- positions by symbol


def test_the_positions_of_one_symbol_are_only_that_symbols(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    _hedged_pair(scripted.terminal)
    assert {t.symbol for t in plugin.session.tickets("EURUSD")} == {"EURUSD"}
    assert plugin.session.tickets("XAUUSD") == []
    assert len(plugin.session.tickets()) == 2


# --------------------------------------------------------------------------- volume limit


async def _netting_long(plugin: Mt5Plugin, lots: str) -> None:
    opened = await plugin.execute_order(Order.market("EURUSD", "buy", lots))
    assert opened.status is OrderStatus.FILLED


@pytest.mark.parametrize(("limit", "allowed"), [("0.3", True), ("0.1", False)])
async def test_a_netting_reversal_counts_only_the_lots_beyond_the_position(
    netted: tuple[Mt5Plugin, Scripted], limit: str, allowed: bool
) -> None:
    plugin, scripted = netted
    await _netting_long(plugin, "0.3")
    scripted.terminal.update_symbol("EURUSD", volume_limit=D(limit))
    plugin.session.forget_symbols()
    reversal = Order.market("EURUSD", "sell", "0.5")  # opens 0.2 short
    if allowed:
        assert retcode_or_none(plugin.session.place(reversal).answers[0].sent) == 10009
        assert scripted.terminal.net_volume("EURUSD", MAGIC) == D("-0.2")
    else:
        with pytest.raises(OrderDenied, match="volume_limit"):
            plugin.session.place(reversal)
        assert scripted.terminal.net_volume("EURUSD", MAGIC) == D("0.3")


async def test_a_netting_reduction_never_reads_the_volume_limit(
    netted: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = netted
    await _netting_long(plugin, "0.3")
    scripted.terminal.update_symbol("EURUSD", volume_limit=D("0.1"))
    plugin.session.forget_symbols()
    scripted.terminal.fail_next("orders_get", IPC_DOWN)  # a read would fail the order
    placed = plugin.session.place(Order.market("EURUSD", "sell", "0.2"))
    assert retcode_or_none(placed.answers[0].sent) == c.TRADE_RETCODE_DONE
    assert scripted.terminal.net_volume("EURUSD", MAGIC) == D("0.1")


@pytest.mark.parametrize("account", ["hedging", "netting"])
def test_no_volume_limit_means_no_orders_read(account: str, request: pytest.FixtureRequest) -> None:
    plugin, scripted = request.getfixturevalue("hedged" if account == "hedging" else "netted")
    scripted.terminal.fail_next("orders_get", IPC_DOWN)  # a read would fail the order
    placed = plugin.session.place(Order.market("EURUSD", "buy", "0.1"))
    assert retcode_or_none(placed.answers[0].sent) == c.TRADE_RETCODE_DONE


def test_a_volume_limit_of_half_a_lot_is_checked(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    scripted.terminal.update_symbol("EURUSD", volume_limit=D("0.5"))
    plugin.session.forget_symbols()
    with pytest.raises(OrderDenied, match="volume_limit"):
        plugin.session.place(Order.market("EURUSD", "buy", "0.6"))
    assert not scripted.sent


# --------------------------------------------------------------------------- legs and resends


async def test_after_a_refused_leg_no_later_leg_is_sent(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    for _ in range(2):
        opened = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
        assert opened.status is OrderStatus.FILLED
    sent = len(scripted.sent)
    refused = _Record({"retcode": c.TRADE_RETCODE_REJECT, "comment": "Request rejected"})
    scripted.then("order_send", lambda real, request: refused)
    placed = plugin.session.place(Order.market("EURUSD", "sell", "0.2"))  # two legs planned
    assert [a.sent for a in placed.answers] == [refused]
    assert len(scripted.sent) == sent + 1
    assert scripted.terminal.net_volume("EURUSD", MAGIC) == D("0.2")


def test_a_pending_order_is_never_resent_at_a_new_price(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    scripted.then("order_send", requote)
    placed = plugin.session.place(Order.limit("EURUSD", "buy", "0.1", D("1.05")))
    assert retcode_or_none(placed.answers[0].sent) == c.TRADE_RETCODE_REQUOTE
    assert [r["price"] for r in scripted.sent] == [1.05]


# --------------------------------------------------------------------------- close-by order


def test_close_by_needs_both_sides_and_pairs_the_oldest_first(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    terminal = scripted.terminal
    _hedged_pair(terminal)  # long A, short B
    _hedged_pair(terminal)  # long C, short D
    _hedged_pair(terminal)  # long E, short F
    tickets = plugin.session.tickets("EURUSD")
    longs = [t.ticket for t in tickets if t.buy]
    done = plugin.session.close_pairs("EURUSD", "pair")
    assert len(done) == 3 and not plugin.session.tickets("EURUSD")
    first_pair = {done[0][0].ticket, done[0][1].ticket}
    assert longs[0] in first_pair and min(t.ticket for t in tickets if not t.buy) in first_pair
    opened = plugin.session.place(Order.market("EURUSD", "buy", "0.1"))
    assert retcode_or_none(opened.answers[0].sent) == c.TRADE_RETCODE_DONE
    assert plugin.session.close_pairs("EURUSD", "pair") == []  # a long alone: nothing to pair


@pytest.mark.parametrize(("lots", "allowed"), [("0.2", True), ("0.3", True), ("0.5", False)])
async def test_a_close_only_symbol_takes_a_netting_reduction_but_not_a_reversal(
    netted: tuple[Mt5Plugin, Scripted], lots: str, allowed: bool
) -> None:
    plugin, scripted = netted
    await _netting_long(plugin, "0.3")
    scripted.terminal.update_symbol("EURUSD", trade_mode=c.SYMBOL_TRADE_MODE_CLOSEONLY)
    plugin.session.forget_symbols()
    order = Order.market("EURUSD", "sell", lots)
    if allowed:
        assert retcode_or_none(plugin.session.place(order).answers[0].sent) == 10009
    else:
        with pytest.raises(OrderDenied, match="close-only"):
            plugin.session.place(order)
