"""A market's quantity and value limits, checked for one order before it is sent, no I/O.

:func:`limit_refusal` holds an order to ccxt's ``limits`` of its market: the amount's
minimum and maximum, and the minimum cost (notional). A reduce-only order is exempt
from the minimum cost only where the venue documents that exemption
(:data:`REDUCE_ONLY_MIN_COST_EXEMPT`); elsewhere it is held to it, as the venue holds it.
"""

from __future__ import annotations

from decimal import Decimal

from fks_exec_ccxt.rules import MarketRules

__all__ = ["REDUCE_ONLY_MIN_COST_EXEMPT", "limit_refusal", "min_cost_exempt"]

REDUCE_ONLY_MIN_COST_EXEMPT: dict[str, str] = {
    # Binance USD-M futures: "'Reduce-Only' order is not affected" by the minimum order
    # notional (binance.com/en/support/articles/360033161972); its error -4164 reads
    # "Order's notional must be no smaller than 5 (unless you choose reduce only)". ccxt
    # binance.py fills limits.cost.min from that MIN_NOTIONAL filter. COIN-M documents
    # no such exemption: inverse markets keep the check.
    "binance": "linear",
    "binanceusdm": "linear",
    # Bybit derivatives: "Closing orders are exempt from notional value but still
    # adhere to minimum size" (Bybit help center, "Derivatives Trading Rules", 3.
    # Minimum Notional Value/Order Size).
    "bybit": "contract",
}
"""Exchange id -> the markets (``linear`` contracts, or every ``contract``) on which the
venue documents that a reduce-only order is exempt from the minimum order value."""


def min_cost_exempt(rules: MarketRules) -> bool:
    """True when a reduce-only order on this market is exempt from its minimum cost."""
    scope = REDUCE_ONLY_MIN_COST_EXEMPT.get(rules.exchange_id)
    if scope is None or not rules.contract:
        return False
    if scope == "contract":
        return True
    # ccxt's unified contract symbols are BASE/QUOTE:SETTLE[-expiry]; linear: settled
    # in the quote currency.
    pair, _, settle = rules.symbol.partition(":")
    return settle.partition("-")[0] == pair.partition("/")[2]


def limit_refusal(
    rules: MarketRules, amount: Decimal, price: Decimal | None, reduce_only: bool
) -> str | None:
    """Why ``amount`` (at ``price``, None: not valued) breaks the market's limits, or None.

    The amount must lie within the minimum and maximum; its value (amount x price x
    contract size) must reach the minimum cost, except for a reduce-only order where the
    venue exempts it (:func:`min_cost_exempt`).
    """
    symbol = rules.symbol
    if rules.min_amount is not None and amount < rules.min_amount:
        return f"quantity {amount} is below {symbol}'s minimum {rules.min_amount} {rules.unit}"
    if rules.max_amount is not None and amount > rules.max_amount:
        return f"quantity {amount} is above {symbol}'s maximum {rules.max_amount} {rules.unit}"
    if rules.min_cost is None or price is None:
        return None
    value = amount * price * rules.contract_size
    if value >= rules.min_cost:
        return None
    if not reduce_only:
        return f"order value {value} is below {symbol}'s minimum {rules.min_cost}"
    if min_cost_exempt(rules):
        return None
    return (
        f"order value {value} is below {symbol}'s minimum {rules.min_cost}, and "
        f"{rules.exchange_id} refuses a reduce-only order below its minimum too (it documents "
        f"no exemption): close the remainder on {rules.exchange_id} itself"
    )
