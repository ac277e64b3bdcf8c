"""A fake Hyperliquid (``/info`` and ``/exchange``) that records every request reaching it.

Written from Hyperliquid's public API documentation, never from the fks-exec plugin:

* exchange endpoint (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/exchange-endpoint):
  every signed action is a POST of ``{"action", "nonce", "signature"}`` to ``/exchange``;
  "Place an order" takes ``{"type": "order", "orders": [{"a", "b", "p", "s", "r", "t",
  "c"?}], "grouping"}`` and answers one status per order: ``{"resting": {"oid"}}``,
  ``{"filled": {"totalSz", "avgPx", "oid"}}`` or ``{"error": text}``; "Cancel order(s)"
  answers ``"success"`` per cancel; "Approve a builder fee" (``approveBuilderFee``) and
  the referrer action (``setReferrer``, ``{"code"}``) answer ``{"status": "ok",
  "response": {"type": "default"}}``; a refused action is ``{"status": "err",
  "response": text}``;
* info endpoint (https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint):
  a POST of ``{"type", "user", ...}`` to ``/info``: ``orderStatus`` (by ``oid`` or a
  cloid: ``{"status": "order", "order": {"order", "status", "statusTimestamp"}}``, else
  ``{"status": "unknownOid"}``), ``frontendOpenOrders``, ``historicalOrders``, and the
  user's abstraction state (``userAbstraction``: a string such as ``"default"``);
* an asset is its index in the perpetuals universe (Asset IDs page); a side is ``B``
  (bid, buy) or ``A`` (ask, sell); a time in force is ``Alo``, ``Ioc`` or ``Gtc``.

Signatures are not checked. What the docs leave open is a setting (:class:`Rules`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from fks_exec_ccxt.testing.aiohttp_transport import (
    FakeClientSession,
    FaultKind,
    HttpRequest,
    HttpResponse,
    TransportFault,
    attach_session,
)

__all__ = ["Arrival", "FakeHyperliquid", "Rules"]

WALLET = "0x" + "11" * 20
PRIVATE_KEY = "0x" + "22" * 32


@dataclass(frozen=True)
class Rules:
    """Inferred behaviour, one setting each (the docs do not say)."""

    side_actions: Literal["accepted", "refused"] = "accepted"
    """How ``approveBuilderFee`` and ``setReferrer`` are answered: taken, or refused
    (a referrer can be set only once; a builder fee the account does not allow)."""
    ioc_fills: bool = True
    """An ``Ioc`` order fills whole at its limit price (a deep book), else nothing fills."""


@dataclass(frozen=True)
class Arrival:
    """One request that reached the venue: its endpoint, its kind and its body."""

    endpoint: Literal["info", "exchange"]
    kind: str
    """The ``type`` of an info request, or of the action of an exchange request."""
    body: dict[str, Any]


@dataclass
class _Order:
    coin: str
    side: str
    limit_px: str
    sz: str
    oid: int
    cloid: str | None
    timestamp: int
    tif: str | None
    trigger_px: str | None
    reduce_only: bool
    status: str = "open"
    filled: Decimal = field(default=Decimal(0))

    def wire(self) -> dict[str, Any]:
        return {
            "coin": self.coin,
            "side": self.side,
            "limitPx": self.limit_px,
            "sz": str(Decimal(self.sz) - self.filled) if self.status == "open" else "0.0",
            "oid": self.oid,
            "timestamp": self.timestamp,
            "origSz": self.sz,
            "cloid": self.cloid,
            "isTrigger": self.trigger_px is not None,
            "triggerPx": self.trigger_px or "0.0",
            "reduceOnly": self.reduce_only,
            "orderType": "Limit" if self.trigger_px is None else "Stop Market",
            "tif": self.tif,
        }


class FakeHyperliquid:
    """Hyperliquid's ``/info`` and ``/exchange`` for a real ``ccxt.async_support.hyperliquid``.

    :meth:`exchange` gives an attached ccxt object (markets are the caller's:
    ``set_markets``); :meth:`arrivals` lists every request that reached the venue, in
    order, and :meth:`order_arrivals` the orders among them; :meth:`fail_next_order`
    makes the next order action fail at the transport after (or before) the venue took it.
    """

    def __init__(
        self,
        *,
        assets: Mapping[int, str] | None = None,
        rules: Rules | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.assets = dict(assets or {0: "BTC"})
        self.rules = rules or Rules()
        self.clock = clock or (lambda: int(time.time() * 1000))
        self._arrivals: list[Arrival] = []
        self._orders: dict[int, _Order] = {}
        self._next_oid = 1000
        self._fault: tuple[FaultKind, bool] | None = None

    # ------------------------------------------------------------------ wiring
    def attach(self, exchange: Any) -> FakeClientSession:
        """Serve ``exchange`` (a ``ccxt.async_support.hyperliquid``) from this venue."""
        return attach_session(exchange, self.handle)

    def exchange(self, **config: Any) -> Any:
        """A new ``ccxt.async_support.hyperliquid`` with a test wallet and key, attached;
        ``config`` is merged into its constructor settings."""
        import ccxt.async_support as ccxt_async

        settings = {"walletAddress": WALLET, "privateKey": PRIVATE_KEY, **config}
        exchange = ccxt_async.hyperliquid(settings)
        self.attach(exchange)
        return exchange

    # ------------------------------------------------------------------ what arrived
    def arrivals(self) -> list[Arrival]:
        """Every request that reached the venue, oldest first."""
        return list(self._arrivals)

    def order_arrivals(self) -> list[dict[str, Any]]:
        """The orders of every ``order`` action that reached the venue, oldest first."""
        return [
            order
            for arrival in self._arrivals
            if arrival.kind == "order"
            for order in arrival.body["action"].get("orders", [])
        ]

    def fail_next_order(self, kind: FaultKind = "reset", *, after_venue_acted: bool = True) -> None:
        """Make the next ``order`` action fail with transport fault ``kind``: after the
        venue took the order (its answer is lost) or before it did."""
        self._fault = (kind, after_venue_acted)

    # ------------------------------------------------------------------ serving
    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request as Hyperliquid would (the handler ccxt's session calls)."""
        try:
            body = request.json()
        except ValueError:
            return HttpResponse.text("Failed to deserialize the JSON body", 422)
        if not isinstance(body, dict):
            return HttpResponse.text("Failed to deserialize the JSON body", 422)
        if request.method == "POST" and request.path == "/info":
            self._arrivals.append(Arrival("info", str(body.get("type")), body))
            return HttpResponse.json(self._info(body))
        if request.method == "POST" and request.path == "/exchange":
            found = body.get("action")
            action: dict[str, Any] = found if isinstance(found, dict) else {}
            self._arrivals.append(Arrival("exchange", str(action.get("type")), body))
            return self._exchange(action)
        return HttpResponse.text("Not Found", 404)

    def _info(self, body: dict[str, Any]) -> Any:
        kind = body.get("type")
        if kind == "userAbstraction":
            return "default"
        if kind == "frontendOpenOrders":
            return [o.wire() for o in self._orders.values() if o.status == "open"]
        if kind == "historicalOrders":
            return [
                {"order": o.wire(), "status": o.status, "statusTimestamp": o.timestamp}
                for o in self._orders.values()
            ]
        if kind == "orderStatus":
            order = self._find(body.get("oid"))
            if order is None:
                return {"status": "unknownOid"}
            return {
                "status": "order",
                "order": {"order": order.wire(), "status": order.status, "statusTimestamp": 0},
            }
        return {"status": "err", "response": f"unknown info type {kind!r}"}

    def _find(self, oid: Any) -> _Order | None:
        if isinstance(oid, int):
            return self._orders.get(oid)
        return next((o for o in self._orders.values() if o.cloid == oid), None)

    def _exchange(self, action: dict[str, Any]) -> HttpResponse:
        kind = action.get("type")
        if kind in ("approveBuilderFee", "setReferrer"):
            if self.rules.side_actions == "refused":
                return HttpResponse.json({"status": "err", "response": f"{kind} refused"})
            return HttpResponse.json({"status": "ok", "response": {"type": "default"}})
        if kind == "order":
            fault, self._fault = self._fault, None
            if fault is not None and not fault[1]:
                raise TransportFault(fault[0])
            statuses = [self._place(o) for o in action.get("orders", [])]
            if fault is not None:
                raise TransportFault(fault[0])
            data = {"statuses": statuses}
            return HttpResponse.json({"status": "ok", "response": {"type": "order", "data": data}})
        if kind == "cancel":
            statuses = [self._cancel(c) for c in action.get("cancels", [])]
            data = {"statuses": statuses}
            return HttpResponse.json({"status": "ok", "response": {"type": "cancel", "data": data}})
        return HttpResponse.json({"status": "err", "response": f"unknown action {kind!r}"})

    def _place(self, wire: dict[str, Any]) -> dict[str, Any]:
        coin = self.assets.get(wire.get("a"))  # type: ignore[arg-type]
        if coin is None:
            return {"error": f"Invalid asset {wire.get('a')!r}"}
        cloid = wire.get("c")
        if cloid is not None and self._find(cloid) is not None:
            return {"error": "Duplicate cloid"}  # a cloid names one order
        kind = wire.get("t") or {}
        trigger = kind.get("trigger")
        tif = (kind.get("limit") or {}).get("tif")
        self._next_oid += 1
        order = _Order(
            coin=coin,
            side="B" if wire.get("b") else "A",
            limit_px=str(wire.get("p")),
            sz=str(wire.get("s")),
            oid=self._next_oid,
            cloid=cloid,
            timestamp=self.clock(),
            tif=tif,
            trigger_px=None if trigger is None else str(trigger.get("triggerPx")),
            reduce_only=bool(wire.get("r")),
        )
        self._orders[order.oid] = order
        if tif == "Ioc":
            if not self.rules.ioc_fills:
                order.status = "canceled"
                return {"error": "Order could not immediately match against any resting orders."}
            order.status, order.filled = "filled", Decimal(order.sz)
            return {"filled": {"totalSz": order.sz, "avgPx": order.limit_px, "oid": order.oid}}
        return {"resting": {"oid": order.oid, **({"cloid": cloid} if cloid else {})}}

    def _cancel(self, cancel: dict[str, Any]) -> Any:
        order = self._orders.get(cancel.get("o"))  # type: ignore[arg-type]
        if order is None or order.status != "open":
            return {"error": "Order was never placed, already canceled, or filled."}
        order.status = "canceled"
        return "success"
