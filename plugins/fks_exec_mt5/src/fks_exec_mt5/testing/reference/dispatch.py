"""From a read request to an ``OrderSendResult`` / ``OrderCheckResult``.

Before the action's own checks come the permissions, in this order (**inferred**):
the terminal's Algo Trading button off -> 10027 TRADE_RETCODE_CLIENT_DISABLES_AT
(mt5linux docs/issues/51-order-send-autotrading-disabled.md: "order_send() fails with
retcode 10027" when the terminal's ``trade_allowed`` is False); the terminal not
connected to the trade server -> 10031 TRADE_RETCODE_CONNECTION; the account not
allowed to trade (investor password) -> 10017 TRADE_DISABLED; trading by programs
forbidden for the account (ACCOUNT_TRADE_EXPERT false) -> 10026 SERVER_DISABLES_AT.
Requests through the Python API carry ORDER_REASON_EXPERT ("The order was placed from
an MQL5-program", https://www.mql5.com/en/docs/constants/tradingconstants/orderproperties).
"""

from __future__ import annotations

from decimal import Decimal

from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.management import (
    close_by,
    modify_order,
    modify_stops,
    remove_order,
)
from fks_exec_mt5.testing.reference.outcome import Outcome, rejected
from fks_exec_mt5.testing.reference.records import OrderCheckResult, OrderSendResult, Record
from fks_exec_mt5.testing.reference.requests import ParsedRequest
from fks_exec_mt5.testing.reference.server import TradeServer
from fks_exec_mt5.testing.reference.trading import market_order, pending_order

__all__ = ["check_result", "decide", "send_result"]


def decide(server: TradeServer, req: ParsedRequest, *, act: bool) -> Outcome:
    """Run the permission gates, then the action; with ``act`` the server changes."""
    terminal, account = server.terminal, server.account
    if not terminal.trade_allowed:
        return rejected(C.TRADE_RETCODE_CLIENT_DISABLES_AT)
    if not terminal.connected:
        return rejected(C.TRADE_RETCODE_CONNECTION)
    if not account.trade_allowed:
        return rejected(C.TRADE_RETCODE_TRADE_DISABLED)
    if not account.trade_expert:
        return rejected(C.TRADE_RETCODE_SERVER_DISABLES_AT)
    reason = C.ORDER_REASON_EXPERT
    if req.action == C.TRADE_ACTION_DEAL:
        return market_order(server, req, act=act, reason=reason)
    if req.action == C.TRADE_ACTION_PENDING:
        return pending_order(server, req, act=act, reason=reason)
    if req.action == C.TRADE_ACTION_SLTP:
        return modify_stops(server, req, act=act)
    if req.action == C.TRADE_ACTION_MODIFY:
        return modify_order(server, req, act=act)
    if req.action == C.TRADE_ACTION_REMOVE:
        return remove_order(server, req, act=act)
    if req.action == C.TRADE_ACTION_CLOSE_BY:
        return close_by(server, req, act=act, reason=reason)
    return rejected(C.TRADE_RETCODE_INVALID)


def send_result(server: TradeServer, req: ParsedRequest) -> Record:
    """Act on ``req`` and build the ``OrderSendResult``."""
    outcome = decide(server, req, act=True)
    return OrderSendResult(
        (
            outcome.retcode,
            outcome.deal,
            outcome.order,
            float(outcome.volume),
            float(outcome.price),
            float(outcome.bid),
            float(outcome.ask),
            outcome.text,
            server.book.new_request_id(),
            0,
            req.echo,
        )
    )


def check_result(server: TradeServer, req: ParsedRequest) -> Record:
    """Check ``req`` only and build the ``OrderCheckResult`` (retcode 0 'Done' if it passes)."""
    outcome = decide(server, req, act=False)
    balance = server.balance
    profit = server.floating_profit()
    equity = balance + profit
    margin = server.used_margin() + (outcome.margin if outcome.retcode == 0 else Decimal(0))
    level = float(equity / margin * 100) if margin else 0.0
    return OrderCheckResult(
        (
            outcome.retcode,
            float(balance),
            float(equity),
            float(profit),
            float(margin),
            float(equity - margin),
            level,
            outcome.text,
            req.echo,
        )
    )
