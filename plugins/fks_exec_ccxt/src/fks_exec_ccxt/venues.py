"""What ccxt's metadata does not say about a venue: a small table, each row cited.

ccxt describes order features per exchange (``has``, ``features``, ``options``) but not
the client order id a venue accepts, nor how a trigger's direction is spelled where ccxt
asks for one. These rows fill exactly those gaps. A venue not listed gets
:data:`DEFAULT_CLIENT_ID` and no trigger-direction spelling (a stop that needs one is
then refused before sending). Sources are ccxt 4.5.90 files (``ccxt/async_support/<id>.py``,
the version pinned in pyproject.toml) and the venues' API pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DEFAULT_CLIENT_ID",
    "VENUES",
    "ClientIdRule",
    "TriggerSpelling",
    "Venue",
    "venue",
]

Form = Literal["text", "hex128", "int63"]


@dataclass(frozen=True)
class ClientIdRule:
    """How one venue takes a client order id.

    ``param`` is the ``create_order`` params key ccxt reads; ``form`` is ``text``
    (``charset`` and ``max_length``), ``hex128`` (``0x`` + 32 hex digits) or ``int63``
    (a positive 63-bit integer); ``prefix`` is what the venue or ccxt puts in front (we
    send it ourselves, so the echo is predictable); ``echo`` is where the id comes back:
    ``clientOrderId`` of ccxt's parsed order, or ``info.<field>``.
    """

    param: str
    max_length: int
    charset: str
    form: Form = "text"
    prefix: str = ""
    echo: str = "clientOrderId"
    source: str = ""
    free_text_max: int | None = None
    """Set when a ``text`` id longer than this must be exactly ``max_length`` long (a
    Kraken short UUID): ids in between are hashed to ``max_length``."""


DEFAULT_CLIENT_ID = ClientIdRule(
    param="clientOrderId",
    max_length=32,
    charset="A-Za-z0-9",
    source="safe default: 1-32 letters and digits is accepted by every venue listed here",
)


@dataclass(frozen=True)
class TriggerSpelling:
    """The params key and values ccxt reads for a trigger's direction on one venue."""

    param: str
    rising: Any
    falling: Any
    source: str


@dataclass(frozen=True)
class Venue:
    """One row: the client id rule (per market kind) and the quirks ccxt does not declare."""

    client_id: ClientIdRule = DEFAULT_CLIENT_ID
    contract_client_id: ClientIdRule | None = None
    """A different rule for swap/future markets, when the venue has one."""
    trigger: TriggerSpelling | None = None
    """Needed when ccxt's ``features.createOrder.triggerDirection`` is true."""
    trigger_needs_no_direction: str = ""
    """Set (to the source) when ccxt derives the direction itself although its
    features say ``triggerDirection: true``."""
    stop_param: str | None = None
    """``stopLossPrice`` where ccxt ignores ``triggerPrice`` although its features say
    otherwise; None: derived from features."""
    trigger_only_inverse: bool = False
    """The direction spelling is read by ccxt for inverse contracts only."""
    refuse: dict[str, str] = field(default_factory=dict)
    """Order features refused on this venue, with the reason (``reduce_only``, ``bracket``)."""
    trigger_search: dict[str, Any] = field(default_factory=lambda: {"trigger": True})
    """Params that make ccxt search the venue's trigger (stop) orders."""
    market_needs_price: str = ""
    """Set (to the source) when ccxt refuses a market order without a price."""
    trigger_from_market: str = ""
    """Set (to the source) when the venue takes a stop's direction from where the market
    is at placement, on the markets where ccxt sends no direction: a stop already
    crossed is refused before sending (:mod:`~fks_exec_ccxt.stop_side`)."""
    client_id_unsent: str = ""
    """Set (to the source) where no client order id reaches the venue through ccxt: every
    order is refused before sending, since a lost answer could not be reconciled."""
    order_builder: str = ""
    """ccxt's method that builds the order's own request, set where ccxt's
    ``create_order`` sends other requests first: an exception raised in it was raised
    before the order left (:func:`~fks_exec_ccxt.errors.refused_before_sending`)."""


VENUES: dict[str, Venue] = {
    "okx": Venue(
        trigger_search={"trigger": True, "ordType": "trigger"},  # ccxt okx.py
        trigger_from_market="OKX v5 place algo order: a trigger order has no direction "
        "and fires 'when a specific price level is crossed' (which way: inferred from "
        "the last price at placement)",
        # fetch_canceled_orders: 'requires an "ordType" string parameter' for algo orders
        client_id=ClientIdRule(
            "clientOrderId",
            32,
            "A-Za-z0-9",
            source="OKX v5 place order: clOrdId, case-sensitive alphanumerics, up to 32 "
            "characters; ccxt okx.py sends it as clOrdId",
        ),
    ),
    "gate": Venue(
        client_id=ClientIdRule(
            "clientOrderId",
            28,
            "A-Za-z0-9_.-",
            prefix="t-",
            source="ccxt gate.py create_order_request: 'text' must start with t-, at most "
            "28 characters, 0-9 A-Z a-z _ - . (ccxt counts the prefix when given)",
        ),
        trigger_needs_no_direction="ccxt gate.py create_order_request: triggerPrice is a "
        "stopLossPrice alias, rule 1 (>=) for a buy, 2 (<=) for a sell",
    ),
    "coinbase": Venue(
        client_id=ClientIdRule(
            "client_order_id",
            36,
            "A-Za-z0-9_-",
            source="ccxt coinbase.py create_order writes its own 'ccxt-<uuid>' "
            "client_order_id unless params carry client_order_id",
        ),
        trigger=TriggerSpelling(
            "stop_direction",
            "STOP_DIRECTION_STOP_UP",
            "STOP_DIRECTION_STOP_DOWN",
            "ccxt coinbase.py create_order: params.stop_direction; its default for a "
            "stop-limit buy is STOP_DOWN (a fall), the opposite of a stop",
        ),
        refuse={
            "reduce_only": "ccxt coinbase.py create_order turns reduceOnly into "
            "close_position, which closes the whole position at once",
        },
    ),
    "deribit": Venue(
        client_id=ClientIdRule(
            "label",
            64,
            "A-Za-z0-9_-",
            echo="info.label",
            source="Deribit private/buy: label, user defined, at most 64 characters; ccxt "
            "deribit.py parse_order leaves clientOrderId None",
        ),
        stop_param="stopLossPrice",
        trigger_needs_no_direction="Deribit stop_market/stop_limit: a buy stop fires on a "
        "rise, a sell stop on a fall",
    ),
    "htx": Venue(
        client_id=ClientIdRule(
            "clientOrderId",
            64,
            "A-Za-z0-9_-",
            source="ccxt htx.py create_spot_order_request: client-order-id, a string",
        ),
        contract_client_id=ClientIdRule(
            "clientOrderId",
            18,
            "0-9",
            form="int63",
            source="ccxt htx.py create_contract_order_request reads clientOrderId with "
            "safe_integer_n; HTX contract API: client_order_id, long [1, 9223372036854775807]",
        ),
        trigger=TriggerSpelling(
            "triggerType",
            "ge",
            "le",
            "ccxt htx.py create_contract_order_request: params.triggerType ge/le "
            "(inverse contracts only)",
        ),
        trigger_only_inverse=True,
    ),
    "hyperliquid": Venue(
        client_id=ClientIdRule(
            "clientOrderId",
            34,
            "0-9a-f",
            form="hex128",
            source="Hyperliquid exchange endpoint: cloid, a 128 bit hex string (0x + 32 "
            "hex digits); ccxt hyperliquid.py sends clientOrderId as cloid",
        ),
        refuse={
            "bracket": "ccxt hyperliquid.py sends the entry, take profit and stop loss with "
            "one cloid, which the venue refuses as a duplicate",
        },
        market_needs_price="ccxt hyperliquid.py create_order_request: 'market orders "
        "require price to calculate the max slippage price' (5 % by default)",
        # ccxt hyperliquid.py create_orders: initialize_client() first (approveBuilderFee
        # and setReferrer on /exchange, userAbstraction on /info; their failures ignored),
        # then create_orders_request (its checks raise), then the order's POST /exchange.
        order_builder="create_orders_request",
    ),
    "kraken": Venue(
        client_id=ClientIdRule(
            "clientOrderId",
            32,
            "0-9a-f",
            echo="info.cl_ord_id",
            free_text_max=18,
            source="Kraken AddOrder cl_ord_id: long or short UUID, or free text up to 18 "
            "characters; ccxt kraken.py sends clientOrderId as cl_ord_id. Matched on "
            "info.cl_ord_id only: ccxt kraken.py parse_order falls back to userref (another "
            "tool's tag, 0 when unset) as clientOrderId when an order has no cl_ord_id",
        ),
    ),
    "kucoin": Venue(
        client_id=ClientIdRule(
            "clientOrderId",
            40,
            "A-Za-z0-9_-",
            source="KuCoin place order: clientOid, at most 40 characters; ccxt kucoin.py "
            "sends clientOrderId as clientOid (a uuid when absent)",
        ),
        trigger=TriggerSpelling(
            "triggerDirection",
            "ascending",
            "descending",
            "ccxt kucoin.py create_order_request: params.triggerDirection ascending or "
            "descending (required for trigger orders where features say so)",
        ),
    ),
    "bybit": Venue(
        client_id=ClientIdRule(
            "clientOrderId",
            36,
            "A-Za-z0-9_-",
            source="Bybit v5 create order: orderLinkId, at most 36 characters; ccxt bybit.py",
        ),
        trigger=TriggerSpelling(
            "triggerDirection",
            "ascending",
            "descending",
            "ccxt bybit.py create_order_request: triggerDirection ascending/descending -> 1/2",
        ),
        # Spot only (ccxt's spot features: triggerDirection false; its contracts get one).
        trigger_from_market="Bybit v5 place order (bybit-exchange.github.io/docs/v5/order/"
        "create-order): triggerDirection is 'valid for linear & inverse', a spot "
        "conditional order (orderFilter StopOrder) carries only triggerPrice; its open "
        "orders show a triggerDirection and the 'last price when place the order' "
        "(v5/order/open-order); which way: inferred from the last price at placement, as "
        "observed in ccxt issue #19000",
        # ccxt bybit.py create_order: is_unified_enabled() first (GET /v5/user/query-api
        # and /v5/account/info, once), then create_order_request, then the POST.
        order_builder="create_order_request",
    ),
    "mexc": Venue(
        trigger=TriggerSpelling(
            "triggerType",
            1,
            2,
            "ccxt mexc.py create_swap_order: triggerType 1 'more than or equal', 2 'less "
            "than or equal'; ccxt's default is 1 whatever the side",
        ),
    ),
    "cryptocom": Venue(
        client_id=ClientIdRule(
            "client_oid",
            36,
            "A-Za-z0-9_-",
            source="Crypto.com Exchange API v1 private/create-order: client_oid, optional, "
            "at most 36 characters; ccxt cryptocom.py create_order_request drops "
            "clientOrderId but passes other params through, and parse_order reads client_oid",
        ),
        refuse={
            "reduce_only": "ccxt cryptocom.py create_order_request never reads reduceOnly "
            "(it is merged raw into the request) and Crypto.com's v1 create-order shows no "
            "reduce-only field: the venue may ignore it",
        },
    ),
    "coinone": Venue(
        client_id_unsent="ccxt coinone.py create_order sends only quote_currency, "
        "target_currency, type, side, price and qty to v2.1 order "
        "(docs.coinone.co.kr/reference/order-v21) and parse_order never reads a client id",
    ),
    "bigone": Venue(
        refuse={
            "reduce_only": "ccxt bigone.py create_order never reads reduceOnly (it is merged "
            "raw into the request): nothing shows the venue honours it",
        },
    ),
    "bullish": Venue(
        refuse={
            "reduce_only": "ccxt bullish.py create_order never reads reduceOnly (it is merged "
            "raw into the request): nothing shows the venue honours it",
        },
    ),
    "gemini": Venue(
        refuse={
            "reduce_only": "ccxt gemini.py create_order never reads reduceOnly (it is merged "
            "raw into the request): nothing shows the venue honours it",
        },
    ),
    "lbank": Venue(
        refuse={
            "reduce_only": "ccxt lbank.py create_order never reads reduceOnly (it is merged "
            "raw into the request): nothing shows the venue honours it",
        },
    ),
    "whitebit": Venue(
        refuse={
            "reduce_only": "ccxt whitebit.py create_order never reads reduceOnly (it is merged "
            "raw into the request): nothing shows the venue honours it",
        },
    ),
    "binance": Venue(
        client_id=ClientIdRule(
            "clientOrderId",
            36,
            "A-Za-z0-9_-",
            source="Binance new order: newClientOrderId ^[.A-Z:/a-z0-9_-]{1,36}$",
        ),
    ),
}


def venue(exchange_id: str) -> Venue:
    """The row of ``exchange_id``, or the safe default row."""
    return VENUES.get(exchange_id, _DEFAULT)


_DEFAULT = Venue()
