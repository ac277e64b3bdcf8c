"""Account-level reads and operations of the ninja plugin: health, positions, quotes,
closing a position, the account's order list and whether it is a simulation account."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from fks_exec.errors import BrokerUnavailable, OrderDenied
from fks_exec.kit import BadBrokerNumber, broker_decimal
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderSide,
    OrderStatus,
    Position,
)
from fks_exec_ninja.codec import COMMAND
from fks_exec_ninja.mapping import check_name, close_position_command, order_id_for
from fks_exec_ninja.states import BROKER, logger, observe

if TYPE_CHECKING:
    from fks_exec_ninja.plugin import NinjaPlugin

__all__ = [
    "OrderLists",
    "close_position",
    "health",
    "is_simulation",
    "listed",
    "market_data",
    "order_ids",
    "positions",
]

_MARKET_DATA = {"ask": "0", "bid": "1", "last": "2"}  # DLL MarketDataType: Ask 0, Bid 1, Last 2


def is_simulation(name: str) -> bool | None:
    """True for NinjaTrader's simulation and playback accounts (``Sim101``,
    ``Playback101``, any ``Sim…``/``Playback…``), None otherwise: NinjaTrader's ATI does
    not say what another name is, so the ``paper`` setting decides."""
    return True if name.lower().startswith(("sim", "playback")) else None


def order_ids(listing: str) -> frozenset[str]:
    """The order ids in an ``Orders|<account>`` value (``|``-separated, help page "Orders")."""
    return frozenset(part for part in listing.split("|") if part)


def listed(listing: str, order_id: str) -> bool:
    """True when ``order_id`` is one of the ``|``-separated ids of ``listing``.

    The list holds every order of the account and is pushed again as it grows, so it
    is searched as it stands (no copy, no set of all its ids) for each order placed."""
    size, end = len(order_id), len(listing)
    found = listing.find(order_id) if size else -1
    while found >= 0:
        after = found + size
        if (found == 0 or listing[found - 1] == "|") and (after == end or listing[after] == "|"):
            return True
        found = listing.find(order_id, found + 1)
    return False


class OrderLists:
    """Whether an id is in an account's ``Orders|<account>`` value, by a set look-up.

    The list holds every order of the account (~33 bytes each) and NinjaTrader pushes
    it again, whole, as it grows, so searching it per order placed costs in proportion to
    the account's history. Here each pushed list is split once into a set of its ids;
    a push that extends the list split before (the usual one: new ids appended) adds
    only the ids after it. Bounded: at most ``max_accounts`` lists are kept.
    """

    __slots__ = ("_lists", "max_accounts")

    def __init__(self, max_accounts: int = 64) -> None:
        self._lists: dict[str, tuple[str, set[str]]] = {}
        self.max_accounts = max_accounts

    def has(self, account: str, listing: str, order_id: str) -> bool:
        """True when ``order_id`` is one of the ids of ``listing``, the current value of
        ``Orders|<account>`` (the same as :func:`listed`)."""
        known = self._lists.get(account)
        if known is None or known[0] is not listing:
            known = self._index(account, listing, known)
        return order_id in known[1]

    def _index(
        self, account: str, listing: str, known: tuple[str, set[str]] | None
    ) -> tuple[str, set[str]]:
        if known is not None and listing.startswith(known[0]):
            before, ids = known
            size = len(before)
            if not before or before[-1] == "|" or listing[size : size + 1] in ("", "|"):
                ids.update(listing[size:].split("|"))  # what was added after it
                ids.discard("")
                self._lists[account] = known = (listing, ids)
                return known
        if len(self._lists) >= self.max_accounts:
            self._lists.clear()
        ids = set(listing.split("|"))
        ids.discard("")
        self._lists[account] = known = (listing, ids)
        return known


def health(plugin: NinjaPlugin) -> HealthStatus:
    """Healthy when an order could go now: connected, ``ATI`` = ``True``, and the
    account's values (its order list) pushed since connecting."""
    ati, cfg = plugin.ati, plugin.config
    where = f"{cfg.host}:{cfg.port}"
    if not ati.connected:
        return HealthStatus(healthy=False, detail=f"not connected to {where}; reconnecting")
    if not ati.ati_up:
        return HealthStatus(healthy=False, detail=f"connected to {where}, but ATI is not True")
    listing = ati.values.get(f"Orders|{cfg.account}")
    if listing is None:
        return HealthStatus(
            healthy=not cfg.require_order_list,
            detail=f"{where}: ATI True; no Orders|{cfg.account} pushed since connecting "
            "(is the account connected in NinjaTrader?)",
        )
    return HealthStatus(
        healthy=True,
        detail=f"{where}: ATI True; account {cfg.account} values pushed "
        f"({len(order_ids(listing))} orders listed)",
    )


def positions(plugin: NinjaPlugin) -> list[Position]:
    """``MarketPosition|<instrument>|<account>`` values that are not zero. Raises
    :class:`~fks_exec.kit.BadBrokerNumber` (naming the key) for a position or average
    that is not a number a real position has: no position is left out silently."""
    account = plugin.config.account
    values = plugin.ati.values
    reverse = {v: k for k, v in plugin.config.symbols.items()}
    result = []
    for key, value in list(values.items()):
        parts = key.split("|")
        if parts[0] != "MarketPosition" or len(parts) != 3 or parts[2] != account:
            continue
        quantity = broker_decimal(value, broker=BROKER, field=key, allow_negative=True)
        average_key = f"AvgEntryPrice|{parts[1]}|{account}"
        average = broker_decimal(values.get(average_key), broker=BROKER, field=average_key)
        if quantity:
            result.append(
                Position(
                    symbol=reverse.get(parts[1], parts[1]),
                    quantity=quantity,
                    average_price=average if average else None,
                    account=account,
                )
            )
    return sorted(result, key=lambda p: p.symbol)


async def market_data(plugin: NinjaPlugin, symbol: str, instrument: str) -> MarketData:
    """The pushed quote of ``instrument``; waits for one after subscribing. Raises
    :class:`BrokerUnavailable` when none comes in ``order_timeout_s``."""
    values = plugin.ati.values
    keys = [f"MarketData|{instrument}|{code}" for code in _MARKET_DATA.values()]
    if not await plugin._waiters.key(
        keys, lambda: any(k in values for k in keys), plugin.config.order_timeout_s
    ):
        raise BrokerUnavailable(f"no market data for {instrument} from NinjaTrader")

    def price(kind: str) -> Decimal | None:
        key = f"MarketData|{instrument}|{_MARKET_DATA[kind]}"
        try:
            value = broker_decimal(values.get(key), broker=BROKER, field=key)
        except BadBrokerNumber as exc:
            logger.warning("quote left out: %s", exc)
            return None
        return value if value else None

    return MarketData(symbol=symbol, bid=price("bid"), ask=price("ask"), last=price("last"))


async def close_position(
    plugin: NinjaPlugin, symbol: str, quantity: Decimal | None
) -> list[ExecutionResult]:
    """Close all (``CLOSEPOSITION``) or part (an opposite market order) of the account's
    position in ``symbol``; never more than the position. The bracket exits of the
    instrument are cut to what is left as the closing order's fill is pushed, also
    after its answer (all: CLOSEPOSITION cancels them). Raises
    :class:`BrokerUnavailable` when NinjaTrader has pushed no position to go by."""
    cfg, ati = plugin.config, plugin.ati
    instrument = plugin.instrument(symbol)
    check_name("instrument", instrument)
    key = f"MarketPosition|{instrument}|{cfg.account}"
    if key not in ati.values:
        raise BrokerUnavailable(
            f"NinjaTrader has pushed no position of {cfg.account} in {instrument} since "
            "connecting, so what to close is not known; nothing was sent"
        )
    try:
        held = broker_decimal(ati.values[key], broker=BROKER, field=key, allow_negative=True)
    except BadBrokerNumber as exc:
        raise BrokerUnavailable(f"{exc}; nothing was sent") from None
    if held is None:
        raise BrokerUnavailable(f"{BROKER}: {key} is empty; nothing was sent")
    if held == 0:
        return []
    side = OrderSide.SELL if held > 0 else OrderSide.BUY
    if quantity is not None and quantity < abs(held):
        whole = quantity.to_integral_value(rounding=ROUND_DOWN)
        if whole == 0:
            raise OrderDenied(f"NinjaTrader closes whole contracts, got {quantity}")
        closing = Order.market(symbol, side, whole)
        closing_id = order_id_for(closing.client_order_id)
        # Each fill of it cuts the exits of brackets to what is left, whenever it is
        # pushed: with the answer, or after it (an answer past order_timeout_s).
        # (Still followed when the call fails: the order may have gone all the same.)
        plugin._brackets.closing_order(closing_id, cfg.account, instrument, held, whole)
        result = await plugin.execute_order(closing)
        if result.sent is False:  # refused before sending: nothing of it will come
            plugin._brackets.not_closing(closing_id)
        return [result]
    plugin._brackets.closing(cfg.account, instrument)  # CLOSEPOSITION cancels their exits
    listing_key = f"Orders|{cfg.account}"
    before = order_ids(ati.values.get(listing_key, ""))
    ati.send_now(COMMAND, close_position_command(cfg.account, instrument))
    await plugin._waiters.key(
        [key], lambda: _decimal_or_none(ati.values.get(key, "")) == 0, cfg.order_timeout_s
    )
    closing = Order.market(symbol, side, abs(held), account=cfg.account)
    return [_close_result(plugin, closing, key, before, listing_key)]


def _close_result(
    plugin: NinjaPlugin, closing: Order, key: str, before: frozenset[str], listing_key: str
) -> ExecutionResult:
    values = plugin.ati.values
    left = _decimal_or_none(values.get(key, ""))
    filled, cost = Decimal(0), Decimal(0)
    for order_id in order_ids(values.get(listing_key, "")) - before:
        seen = observe(values, order_id)
        if seen.filled > 0 and seen.average:
            filled += seen.filled
            cost += seen.filled * seen.average
    if left == 0 and filled == closing.quantity:
        return ExecutionResult.for_order(
            closing,
            plugin=plugin.name,
            status=OrderStatus.FILLED,
            filled_quantity=filled,
            average_price=cost / filled,
        )
    what = "flat, but the closing fill was not identified" if left == 0 else f"still {left}"
    if left is None:
        what = "not known (no position value)"
    return ExecutionResult.for_order(
        closing,
        plugin=plugin.name,
        status=OrderStatus.UNKNOWN,
        sent=True,
        error_code=ErrorCode.UNKNOWN,
        error=f"CLOSEPOSITION sent; the position is {what}: check positions()",
    )


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        return broker_decimal(text, broker=BROKER, field="MarketPosition", allow_negative=True)
    except BadBrokerNumber:
        return None
