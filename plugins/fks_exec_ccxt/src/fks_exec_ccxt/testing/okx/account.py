"""The fake OKX trading account: cash per currency and positions in contracts.

Positions follow https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-positions:
in ``net_mode`` one position per instrument with ``posSide`` ``net`` and a signed
``pos`` (positive long, negative short); in ``long_short_mode`` separate ``long`` and
``short`` positions, each with a positive ``pos``. ``pos`` counts contracts. Profit of a
linear contract is ``contracts * ctVal * (exit - entry)`` in the settle currency; of an
inverse contract ``contracts * ctVal * (1/entry - 1/exit)`` in the coin (standard
contract arithmetic, with the entry price of an inverse position averaged harmonically).
Fees are charged at the instrument's taker/maker rate on the traded value and shown
negative, as OKX shows them (``fee`` in the order details).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from fks_exec_ccxt.testing.okx.markets import Instrument

__all__ = ["Account", "PosMode", "Position"]

PosMode = Literal["net_mode", "long_short_mode"]
ZERO = Decimal(0)


@dataclass
class Position:
    """One position: ``pos`` contracts (signed in net mode), at ``avg_px``."""

    inst: Instrument
    pos_side: str
    pos_id: str
    c_time: int
    u_time: int
    pos: Decimal = ZERO
    avg_px: Decimal | None = None
    realized_pnl: Decimal = ZERO
    fee: Decimal = ZERO

    @property
    def direction(self) -> int:
        """+1 long, -1 short, 0 flat."""
        if self.pos == 0:
            return 0
        if self.pos_side == "short":
            return -1
        return 1 if self.pos > 0 else -1

    def value(self, price: Decimal) -> Decimal:
        """The position's size in its margin currency at ``price`` (always >= 0)."""
        contracts = abs(self.pos)
        if self.inst.inverse:
            return contracts * self.inst.ct_val / price
        return contracts * self.inst.ct_val * price

    def unrealized(self, price: Decimal) -> Decimal:
        """Profit or loss if closed at ``price``, in the settle currency."""
        if self.avg_px is None or self.pos == 0:
            return ZERO
        return self.direction * _pnl(self.inst, abs(self.pos), self.avg_px, price)


class Account:
    """Cash balances and positions; fills change them, the book asks what is free."""

    def __init__(self, balances: Mapping[str, Decimal], pos_mode: PosMode) -> None:
        self.cash: dict[str, Decimal] = dict(balances)
        self.pos_mode: PosMode = pos_mode
        self.positions: dict[tuple[str, str], Position] = {}
        self._pos_ids = itertools.count(1_752_810_569_801_498_626)

    def position(self, inst: Instrument, pos_side: str, now_ms: int) -> Position:
        """The position of ``inst`` on ``pos_side``, created flat if there is none."""
        key = (inst.inst_id, pos_side)
        if key not in self.positions:
            self.positions[key] = Position(inst, pos_side, str(next(self._pos_ids)), now_ms, now_ms)
        return self.positions[key]

    def held(self, inst: Instrument, pos_side: str) -> Decimal:
        """Contracts held on that side (signed in net mode); 0 when none."""
        existing = self.positions.get((inst.inst_id, pos_side))
        return existing.pos if existing else ZERO

    def margin(
        self, inst: Instrument, contracts: Decimal, price: Decimal, leverage: Decimal
    ) -> Decimal:
        """Initial margin of ``contracts`` at ``price``, in the settle currency."""
        if inst.inverse:
            return contracts * inst.ct_val / price / leverage
        return contracts * inst.ct_val * price / leverage

    def position_margin(self, ccy: str, leverage: Decimal) -> Decimal:
        """Margin held by open positions settled in ``ccy``, at their entry prices."""
        return sum(
            (
                p.value(p.avg_px) / leverage
                for p in self.positions.values()
                if p.inst.settle == ccy and p.pos != 0 and p.avg_px is not None
            ),
            ZERO,
        )

    def fill_spot(
        self, inst: Instrument, side: str, qty: Decimal, price: Decimal, rate: Decimal
    ) -> tuple[Decimal, str]:
        """Book a spot trade; returns the fee (negative) and its currency.

        OKX charges a spot buy's fee in the base currency and a sell's in the quote.
        """
        if side == "buy":
            fee = -qty * rate
            self._add(inst.base, qty + fee)
            self._add(inst.quote, -qty * price)
            return fee, inst.base
        fee = -qty * price * rate
        self._add(inst.base, -qty)
        self._add(inst.quote, qty * price + fee)
        return fee, inst.quote

    def fill_contract(
        self,
        inst: Instrument,
        side: str,
        pos_side: str,
        qty: Decimal,
        price: Decimal,
        rate: Decimal,
        now_ms: int,
    ) -> tuple[Decimal, Decimal]:
        """Book a contract trade on ``pos_side``; returns (fee, realized pnl)."""
        position = self.position(inst, pos_side, now_ms)
        fee = -(qty * inst.ct_val / price if inst.inverse else qty * inst.ct_val * price) * rate
        if pos_side == "net":
            pnl = self._trade_net(position, qty if side == "buy" else -qty, price)
        else:
            opening = (side == "buy") == (pos_side == "long")
            pnl = self._trade_hedged(position, qty, price, opening=opening)
        position.realized_pnl += pnl + fee
        position.fee += fee
        position.u_time = now_ms
        self._add(inst.settle, pnl + fee)
        return fee, pnl

    def _trade_net(self, position: Position, delta: Decimal, price: Decimal) -> Decimal:
        held = position.pos
        if held == 0 or (held > 0) == (delta > 0):
            position.avg_px = _average(position.inst, abs(held), position.avg_px, abs(delta), price)
            position.pos = held + delta
            return ZERO
        closing = min(abs(delta), abs(held))
        assert position.avg_px is not None
        pnl = (1 if held > 0 else -1) * _pnl(position.inst, closing, position.avg_px, price)
        position.pos = held + delta
        if position.pos == 0:
            position.avg_px = None
        elif (position.pos > 0) != (held > 0):
            position.avg_px = price  # flipped: the rest opened at this price
        return pnl

    def _trade_hedged(
        self, position: Position, qty: Decimal, price: Decimal, *, opening: bool
    ) -> Decimal:
        if opening:
            position.avg_px = _average(position.inst, position.pos, position.avg_px, qty, price)
            position.pos += qty
            return ZERO
        assert position.avg_px is not None and qty <= position.pos
        sign = 1 if position.pos_side == "long" else -1
        pnl = sign * _pnl(position.inst, qty, position.avg_px, price)
        position.pos -= qty
        if position.pos == 0:
            position.avg_px = None
        return pnl

    def _add(self, ccy: str, amount: Decimal) -> None:
        self.cash[ccy] = self.cash.get(ccy, ZERO) + amount


def _pnl(inst: Instrument, contracts: Decimal, entry: Decimal, exit_px: Decimal) -> Decimal:
    if inst.inverse:
        return contracts * inst.ct_val * (1 / entry - 1 / exit_px)
    return contracts * inst.ct_val * (exit_px - entry)


def _average(
    inst: Instrument, held: Decimal, avg: Decimal | None, qty: Decimal, price: Decimal
) -> Decimal:
    if avg is None or held == 0:
        return price
    if inst.inverse:
        return (held + qty) / (held / avg + qty / price)
    return (held * avg + qty * price) / (held + qty)
