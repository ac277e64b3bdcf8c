"""Which time in force a market order may carry through ccxt, venue by venue, no I/O.

ccxt's ``features`` say which time in force a market kind takes, not which order types
take it: on most venues a market order has none, and ccxt drops the value or sends it
where the venue misreads it. :func:`market_tif_refusal` lets IOC / FOK through on a
market order only where ccxt's ``createOrder`` sends it and the venue documents it.
"""

from __future__ import annotations

from fks_exec_ccxt.rules import MarketRules

__all__ = ["MARKET_TIME_IN_FORCE", "market_tif_refusal"]

_IOC, _BOTH = frozenset({"IOC"}), frozenset({"IOC", "FOK"})

MARKET_TIME_IN_FORCE: dict[tuple[str, bool], frozenset[str]] = {
    # Bybit v5 "Place Order", timeInForce: "Market order will always use IOC"; ccxt
    # bybit.py createOrderRequest sends timeInForce for market orders too.
    ("bybit", False): _IOC,
    ("bybit", True): _IOC,
    # Gate v4 spot orders: a market order takes only ioc or fok; ccxt gate.py
    # createOrderRequest sends time_in_force ("timeInForce for market order can only be
    # FOK or IOC"). Gate futures: a market order is price 0 with tif ioc.
    ("gate", False): _BOTH,
    ("gate", True): _IOC,
    # OKX v5 ordType optimal_limit_ioc: "Market order with immediate-or-cancel order
    # (applicable only to Expiry Futures and Perpetual Futures)"; ccxt okx.py sends a
    # contract market IOC as it. Spot IOC and any FOK go out as a plain market / a
    # priceless fok, so they are refused.
    ("okx", True): _IOC,
}
"""(exchange id, contract market) -> the time in force a market order may carry there."""


def market_tif_refusal(rules: MarketRules, tif: str) -> str | None:
    """Why a market order on this market cannot carry ``tif`` (``IOC``/``FOK``), or None.

    Allowed only where :data:`MARKET_TIME_IN_FORCE` lists it and ccxt's ``features``
    allow it on the market (``rules.time_in_force``).
    """
    allowed = MARKET_TIME_IN_FORCE.get((rules.exchange_id, rules.contract), frozenset())
    if tif in allowed and tif in rules.time_in_force:
        return None
    return (
        f"{rules.exchange_id} takes no {tif} on a market order on {rules.symbol} through "
        "ccxt (it would go out without it and could fill in part); send a limit order "
        f"with time_in_force={tif.lower()} at the worst price you accept"
    )
