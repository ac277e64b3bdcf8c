"""Rules derived from what ccxt says of an exchange and its markets, once, with no I/O.

* :func:`market_rules`: one market -> :class:`MarketRules` (order kinds, time in force,
  how a stop and its direction are expressed, quantity unit, precision, limits, client id);
* :func:`capabilities`: the exchange -> the :class:`~fks_exec.plugin.Capability` set a
  plugin instance declares (from ``has`` and ``features`` of every market kind).

Each refusal is kept as a reason naming the venue, so an order is refused with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fks_exec.plugin import Capability
from fks_exec_ccxt.numbers import positive, to_decimal
from fks_exec_ccxt.venues import ClientIdRule, Venue, venue

__all__ = ["MarketRules", "StopRule", "capabilities", "features_of", "market_rules"]

_TICK_SIZE = 4  # ccxt's precisionMode constant: precision values are tick sizes
_KINDS: tuple[tuple[str, str | None], ...] = (
    ("spot", None),
    ("swap", "linear"),
    ("swap", "inverse"),
    ("future", "linear"),
    ("future", "inverse"),
)


@dataclass(frozen=True)
class StopRule:
    """How a stop order is expressed on a market, or why it cannot be."""

    param: str | None
    """``triggerPrice`` or ``stopLossPrice``; None when stops are refused."""
    direction: tuple[str, Any, Any] | None
    """(params key, value for a rise, value for a fall) when a direction must be sent."""
    refused: str | None = None
    from_market: bool = False
    """The venue takes the direction from the market: a stop already crossed is refused."""


@dataclass(frozen=True)
class MarketRules:
    """What the order path needs to know of one market, derived once."""

    exchange_id: str
    symbol: str
    spot: bool
    contract: bool
    contract_size: Decimal
    unit: str
    """``contracts`` for derivatives, ``base`` for spot: the unit of quantities."""
    stop: StopRule
    time_in_force: frozenset[str]
    """Time-in-force values ccxt's features allow (GTC always)."""
    bracket_refused: str | None
    reduce_only_refused: str | None
    market_buy_by_cost: bool
    """ccxt needs a price (or a quote cost) for a market buy: we send amount x ask."""
    market_needs_price: bool
    """ccxt needs a price for every market order (it caps the slippage from it): the
    ask or bid, or a market stop's trigger."""
    amount_tick: Decimal | None
    """Set when ccxt rounds this market by tick size with its generic method."""
    price_tick: Decimal | None
    amount_step: Decimal | None
    """The market's amount tick whenever precision is in ticks (even where the exchange
    rounds with its own method): quantities are truncated to it first."""
    min_amount: Decimal | None
    max_amount: Decimal | None
    min_cost: Decimal | None
    client_id: ClientIdRule


def features_of(exchange: Any, market: dict[str, Any]) -> dict[str, Any]:
    """ccxt's ``features`` section for this market's type (``createOrder`` and friends)."""
    features = getattr(exchange, "features", None) or {}
    kind = market.get("type") or "spot"
    section = features.get(kind) if kind in ("spot", "swap", "future") else None
    if not isinstance(section, dict):
        return {}
    if kind != "spot" and "createOrder" not in section:
        section = section.get("linear" if market.get("linear", True) else "inverse")
    return section if isinstance(section, dict) else {}


def _create(section: dict[str, Any]) -> dict[str, Any]:
    create = section.get("createOrder")
    return create if isinstance(create, dict) else {}


def _stop_rule(exchange_id: str, row: Venue, create: dict[str, Any], inverse: bool) -> StopRule:
    param = row.stop_param
    if param is None:
        if create.get("triggerPrice"):
            param = "triggerPrice"
        elif create.get("stopLossPrice"):
            param = "stopLossPrice"  # ccxt's stop-loss trigger: a sell fires on a fall
    if param is None:
        return StopRule(None, None, f"{exchange_id} has no stop orders on this market in ccxt")
    if param == "stopLossPrice" or not create.get("triggerDirection"):
        return StopRule(param, None, from_market=bool(row.trigger_from_market))
    if row.trigger_needs_no_direction:
        return StopRule(param, None)
    spelling = row.trigger
    if spelling is None or (row.trigger_only_inverse and not inverse):
        return StopRule(
            None,
            None,
            f"{exchange_id} needs a trigger direction on this market and ccxt has no "
            "documented way to send it; a stop could fire the wrong way",
        )
    return StopRule(param, (spelling.param, spelling.rising, spelling.falling))


def market_rules(exchange: Any, market: dict[str, Any]) -> MarketRules:
    """Derive the rules of ``market`` on ``exchange`` from ccxt's metadata and the table."""
    from ccxt.async_support.base.exchange import Exchange

    exchange_id = str(exchange.id)
    row = venue(exchange_id)
    section = features_of(exchange, market)
    create = _create(section)
    spot = bool(market.get("spot")) or market.get("type") == "spot"
    contract = bool(market.get("contract")) or market.get("type") in ("swap", "future")
    inverse = bool(market.get("inverse"))
    kind = type(exchange)
    generic = (
        exchange.precisionMode == _TICK_SIZE
        and kind.amount_to_precision is Exchange.amount_to_precision
        and kind.price_to_precision is Exchange.price_to_precision
    )
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    tif = create.get("timeInForce") or {}
    allowed = frozenset({"GTC"} | {k for k in ("IOC", "FOK") if tif.get(k)})
    attached = create.get("attachedStopLossTakeProfit") is not None
    return MarketRules(
        exchange_id=exchange_id,
        symbol=str(market["symbol"]),
        spot=spot,
        contract=contract,
        contract_size=to_decimal(market.get("contractSize")) or Decimal(1),
        unit="contracts" if contract else "base",
        stop=_stop_rule(exchange_id, row, create, inverse),
        time_in_force=allowed,
        bracket_refused=row.refuse.get("bracket")
        or (
            None
            if attached or create.get("stopLoss") or create.get("takeProfit")
            else f"{exchange_id} cannot attach a stop loss / take profit on this market in ccxt"
        ),
        reduce_only_refused=row.refuse.get("reduce_only")
        or ("reduce_only has no meaning on a spot market; sell what you hold" if spot else None),
        market_buy_by_cost=spot
        and bool(
            exchange.options.get("createMarketBuyOrderRequiresPrice")
            or create.get("marketBuyRequiresPrice")
        ),
        market_needs_price=bool(row.market_needs_price),
        amount_tick=positive(precision.get("amount")) if generic else None,
        price_tick=positive(precision.get("price")) if generic else None,
        amount_step=positive(precision.get("amount"))
        if exchange.precisionMode == _TICK_SIZE
        else None,
        min_amount=to_decimal((limits.get("amount") or {}).get("min")),
        max_amount=to_decimal((limits.get("amount") or {}).get("max")) or None,
        min_cost=to_decimal((limits.get("cost") or {}).get("min")) or None,
        client_id=(row.contract_client_id if contract else None) or row.client_id,
    )


def traded_kinds(exchange: Any) -> list[tuple[str, str | None]]:
    """The market kinds this exchange object loads: ccxt's ``options.fetchMarkets``
    (``types``), else every kind of its ``features``."""
    option = (exchange.options or {}).get("fetchMarkets")
    types = option.get("types") if isinstance(option, dict) else option
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        return list(_KINDS)
    wanted = set(types)
    kinds = []
    for kind, sub in _KINDS:
        if kind in wanted or (sub is not None and sub in wanted):
            kinds.append((kind, sub))
    return kinds or list(_KINDS)


def _kind_sections(exchange: Any) -> list[tuple[dict[str, Any], bool]]:
    sections = []
    for kind, sub in traded_kinds(exchange):
        market = {"type": kind, "linear": sub != "inverse", "inverse": sub == "inverse"}
        section = features_of(exchange, market)
        if section:
            sections.append((section, sub == "inverse"))
    return sections


def capabilities(exchange: Any) -> frozenset[Capability]:
    """What a plugin instance on ``exchange`` can do, from ccxt's ``has`` and ``features``.

    A capability is declared when at least one market kind allows it; orders on a
    market that does not are then refused with the reason (see :func:`market_rules`).
    """
    has = exchange.has or {}
    row = venue(str(exchange.id))
    caps: set[Capability] = set()
    if has.get("cancelOrder"):
        caps.add(Capability.CANCEL_ORDER)
    if has.get("fetchOpenOrders") or has.get("fetchOrder") or has.get("fetchOrders"):
        caps.add(Capability.GET_ORDER)
    if has.get("fetchPositions") or has.get("fetchBalance"):
        caps.add(Capability.POSITIONS)
    sections = _kind_sections(exchange)
    has_contracts = any(
        kind != "spot" and features_of(exchange, {"type": kind, "linear": sub != "inverse"})
        for kind, sub in traded_kinds(exchange)
    )
    for section, inverse in sections:
        create = _create(section)
        if _stop_rule(str(exchange.id), row, create, inverse).param is not None:
            caps.add(Capability.STOP_ORDERS)
        if "bracket" not in row.refuse and (
            create.get("attachedStopLossTakeProfit") is not None
            or create.get("stopLoss")
            or create.get("takeProfit")
        ):
            caps.add(Capability.BRACKET_ORDERS)
    if has_contracts and "reduce_only" not in row.refuse:
        caps.add(Capability.REDUCE_ONLY)
        if has.get("fetchPositions") and has.get("createOrder"):
            caps.add(Capability.CLOSE_POSITION)
    return frozenset(caps)
