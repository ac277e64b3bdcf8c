"""Running ccxt's own static cases (../shared/fixtures/ccxt-static) through the plugin.

A case's ``input`` is a unified ``create_order`` call; :func:`order_of` turns it into
the :class:`Order` that asks for the same thing, or says why an Order cannot express
it. :func:`run_request_case` sends that Order through the plugin on a real ccxt object
whose aiohttp session is replaced, and returns the request that left.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from fks_exec import ExecutionResult, Order
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.aiohttp_transport import (
    HttpRequest,
    HttpResponse,
    TransportFault,
    attach_session,
)

STATIC = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "ccxt-static"
EXCHANGES = ("okx", "kraken", "coinbase", "kucoin", "gate", "mexc")

# ccxt "type 2" conditional orders, trailing orders and quote-cost quantities: an Order
# says the same with its own fields, so these keys in params are refused by the plugin.
_TO_FIELDS = {"triggerPrice", "stopPrice", "stopLoss", "takeProfit", "reduceOnly"}
_TO_FIELDS |= {"clientOrderId", "timeInForce"}


PRICES: dict[str, dict[str, float]] = {
    # Recent prices for the harness's ticker, only to value market orders against a
    # market's minimum cost (files with ``harness_prices`` use those instead).
    "okx": {"LTC/USDT": 70, "BTC/USDT": 40000, "LTC/USDT:USDT": 70, "BTC/USDT:USDT": 40000},
    "kraken": {"LTC/USDT": 70, "BTC/USD": 40000},
    "coinbase": {"ADA/USDT": 0.4, "BTC/USDC": 60000, "DOGE/USDT": 0.1, "ADA/USDC:USDC": 0.4},
    "kucoin": {"LTC/USDT": 70, "ADA/USDT": 0.4, "ETH/USDT": 2000},
}


def prices_for(exchange: str, request_file: dict[str, Any]) -> dict[str, Any]:
    """The harness's ticker prices for one exchange."""
    return dict(request_file.get("harness_prices") or PRICES.get(exchange, {}))


def load(exchange: str, kind: str) -> Any:
    """One static file, or skip the test when ../shared is absent."""
    path = STATIC / f"{exchange}.{kind}.json"
    if not path.exists():
        pytest.skip(f"ccxt static cases not found at {STATIC} (shared/ sits beside the repo)")
    return json.loads(path.read_text())


def or_skipped(params: list[Any]) -> list[Any]:
    """``params``, or one skipped case when ../shared is absent.

    pytest refuses an empty parameter set (``empty_parameter_set_mark``), so a checkout
    without ccxt's static cases skips these tests instead; with the cases present, an
    empty set still fails collection.
    """
    if params or STATIC.is_dir():
        return params
    why = f"ccxt static cases not found at {STATIC} (shared/ sits beside the repo)"
    return [pytest.param(None, None, id="static-cases-absent", marks=pytest.mark.skip(reason=why))]


def cases(exchange: str, kind: str, method: str) -> list[dict[str, Any]]:
    """The cases of ``method`` in one file ([] when the file is absent: skip at run time)."""
    path = STATIC / f"{exchange}.{kind}.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text())["methods"].get(method, []))


def _trigger(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("triggerPrice", value.get("stopPrice"))
    return value


@dataclass(frozen=True)
class Expressed:
    """The Order for a case, or why there is none."""

    order: Order | None
    why_not: str = ""


def order_of(case_input: list[Any]) -> Expressed:
    """The Order asking what ``case_input`` (a create_order call) asks."""
    symbol, kind, side, amount, price, *rest = [*case_input, None, None][:6]
    params = dict(rest[0] or {}) if rest else {}
    if not amount or Decimal(str(amount)) <= 0:
        return Expressed(None, "amount 0 (ccxt computes it from params): an Order has a quantity")
    if kind == "market" and price is not None:
        return Expressed(None, "a market order with a price: the plugin supplies the ask itself")
    if "takeProfitPrice" in params:
        return Expressed(None, "a take-profit trigger (fires on a favourable move): no Order type")
    fields: dict[str, Any] = {}
    # ccxt's stopLossPrice ("type 2") fires on an adverse move: a sell on a fall, a buy on
    # a rise, which is what a stop order is.
    stop = params.pop("stopLossPrice", None)
    stop = _trigger(params.pop("triggerPrice", params.pop("stopPrice", stop)))
    if "stopLoss" in params:
        fields["stop_loss"] = str(_trigger(params.pop("stopLoss")))
    if "takeProfit" in params:
        fields["take_profit"] = str(_trigger(params.pop("takeProfit")))
    if params.pop("reduceOnly", False):
        fields["reduce_only"] = True
    if "clientOrderId" in params:
        fields["client_order_id"] = params.pop("clientOrderId")
    if "timeInForce" in params:
        fields["time_in_force"] = str(params.pop("timeInForce")).lower()
    fields["params"] = params
    quantity = str(amount)
    try:
        if stop is not None:
            stop_text = str(stop)
            if kind == "limit":
                return Expressed(
                    Order.stop_limit(symbol, side, quantity, stop_text, str(price), **fields)
                )
            return Expressed(Order.stop(symbol, side, quantity, stop_text, **fields))
        if kind == "limit":
            return Expressed(Order.limit(symbol, side, quantity, str(price), **fields))
        return Expressed(Order.market(symbol, side, quantity, **fields))
    except ValueError as exc:
        return Expressed(None, f"not a valid Order: {str(exc).splitlines()[0]}")


def exchange_for(exchange_id: str, request_file: dict[str, Any] | None = None) -> Any:
    """A real ccxt exchange with credentials of the right shape and the stored markets."""
    import ccxt.async_support as ccxt_async

    options: dict[str, Any] = {}
    if request_file:
        options.update(request_file.get("options") or {})
        options.update(request_file.get("harness_options") or {})
    key, secret = "fks-key", base64.b64encode(b"fks-exec-static-secret").decode()
    if exchange_id == "coinbase":  # Coinbase's CDP keys: a name and an EC private key (JWT)
        key, secret = "organizations/fks/apiKeys/fks", ec_private_key()
    exchange = getattr(ccxt_async, exchange_id)(
        {"apiKey": key, "secret": secret, "password": "fks-pass", "options": options}
    )
    markets = {k: v for k, v in load(exchange_id, "markets").items() if not k.startswith("_")}
    exchange.set_markets(list(markets.values()))
    return exchange


def ec_private_key() -> str:
    """A fresh EC P-256 private key in PEM (the form of Coinbase CDP API secrets)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class Wire:
    """The requests that reached the fake transport, and how to answer them."""

    requests: list[HttpRequest]
    answer: HttpResponse | None = None
    answer_path: str | None = None

    async def handle(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        if self.answer is not None and (
            self.answer_path is None or request.path.endswith(self.answer_path)
        ):
            return self.answer
        raise TransportFault("reset")  # no answer: nothing more is read


async def plugin_on(
    exchange_id: str, request_file: dict[str, Any] | None, prices: dict[str, Any]
) -> tuple[CcxtPlugin, Wire]:
    """The plugin on a stored-markets exchange whose HTTP goes to a :class:`Wire`."""
    exchange = exchange_for(exchange_id, request_file)
    wire = Wire([])
    attach_session(exchange, wire.handle)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init({"ticker_cache_ms": 3_600_000})
    for symbol, price in prices.items():  # the harness's ticker: no ticker endpoint faked
        for side in ("buy", "sell"):
            plugin._tickers.set((symbol, side), Decimal(str(price)))
    return plugin, wire


def short_of_the_stop(plugin: CcxtPlugin, order: Order) -> None:
    """Answer the plugin's ticker read for a stop (okx checks the stop's side against
    the last price first; the harness fakes no ticker endpoint) with a last price 1 %
    short of the stop price: a market that has not reached it, as ccxt's cases mean."""
    stop = order.stop_price
    if stop is None:
        return
    last = stop * (Decimal("0.99") if order.side.value == "buy" else Decimal("1.01"))

    async def fetch_ticker(symbol: str, params: Any = None) -> dict[str, Any]:
        assert symbol == order.symbol, symbol
        return {"symbol": symbol, "last": float(last)}

    plugin.exchange.fetch_ticker = fetch_ticker


def body_of(request: HttpRequest) -> Any:
    """The order fields that left: JSON body, form body, or query string."""
    if request.body:
        try:
            return json.loads(request.body)
        except ValueError:
            return dict(parse_qsl(request.body, keep_blank_values=True))
    return dict(request.query)


def differences(expected: Any, sent: Any, skip: set[str]) -> list[str]:
    """Keys of ``expected`` (recursively, skipKeys ignored) whose value differs in ``sent``."""
    if isinstance(expected, list):
        if not isinstance(sent, list) or len(sent) != len(expected):
            return [f"list of {len(expected)} != {sent!r}"]
        return [d for e, s in zip(expected, sent, strict=True) for d in differences(e, s, skip)]
    if isinstance(expected, dict):
        if not isinstance(sent, dict):
            return [f"{expected!r} != {sent!r}"]
        found = []
        for key, value in expected.items():
            if key in skip:
                continue
            if key not in sent:
                found.append(f"{key} missing (ccxt: {value!r})")
            else:
                found += [f"{key}: {d}" for d in differences(value, sent[key], skip)]
        return found
    if _numbers(expected, sent):
        # ccxt's JS cases write 1 where ccxt's Python sends 1.0: one JSON number.
        return (
            []
            if Decimal(str(expected)) == Decimal(str(sent))
            else [f"ccxt {expected}, sent {sent}"]
        )
    if str(expected) != str(sent):
        return [f"ccxt {expected!r}, sent {sent!r}"]
    return []


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def expected_fields(case: dict[str, Any]) -> Any:
    """The case's expected body, or the query of its URL when it has no body."""
    if case.get("output") is not None:
        output = case["output"]
        if isinstance(output, str):
            try:
                return json.loads(output)
            except ValueError:
                return dict(parse_qsl(output, keep_blank_values=True))
        return output
    query = str(case.get("url", "")).partition("?")[2]
    return dict(parse_qsl(query, keep_blank_values=True)) if query else None


def result_matches_parsed(result: ExecutionResult, parsed: dict[str, Any]) -> list[str]:
    """Where an ExecutionResult disagrees with ccxt's parsed order."""
    from fks_exec_ccxt.numbers import to_decimal

    wrong = []
    if parsed.get("id") is not None and result.order_id != str(parsed["id"]):
        wrong.append(f"order_id {result.order_id} != {parsed['id']}")
    wanted = {
        "open": {"accepted", "partially_filled"},
        "closed": {"filled"},
        "canceled": {"canceled"},
        None: {"accepted", "partially_filled", "filled"},
    }.get(parsed.get("status"), {str(parsed.get("status"))})
    if result.status.value not in wanted:
        wrong.append(f"status {result.status.value} for ccxt {parsed.get('status')}")
    filled = to_decimal(parsed.get("filled"))
    if filled is not None and result.filled_quantity != filled:
        wrong.append(f"filled {result.filled_quantity} != {filled}")
    average = to_decimal(parsed.get("average"))
    if filled and average and result.average_price != average:
        wrong.append(f"average {result.average_price} != {average}")
    return wrong
