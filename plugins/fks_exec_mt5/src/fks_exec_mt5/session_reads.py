"""What the worker thread reads of the account: symbol rules, ticks, positions, orders.

:class:`SessionReads` is the read half of :class:`~fks_exec_mt5.session.Mt5Session`
(which plans and sends orders). Its symbol rules are cached per ``symbol_cache_s``,
with what each specification decides (rounded lots, filling policies) remembered
beside them. A link that fails raises :class:`LinkDown`: nothing was sent.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, NamedTuple

from fks_exec.errors import OrderDenied
from fks_exec.kit import TtlCache
from fks_exec.models import Order, OrderType, TimeInForce
from fks_exec_mt5 import constants as c
from fks_exec_mt5.config import Mt5Config
from fks_exec_mt5.exposure import Ticket, owned
from fks_exec_mt5.mapping import rounded_volume
from fks_exec_mt5.numbers import LATEST_MS, time_ms_of
from fks_exec_mt5.prechecks import SymbolRules, choose_filling
from fks_exec_mt5.retcodes import Fate, last_error_of
from fks_exec_mt5.servertime import ServerClock

__all__ = ["LinkDown", "SessionReads"]

_VOLUMES_KEPT = 64
"""Rounded quantities remembered per symbol specification (orders repeat their sizes)."""


_NOTHING_FOUND = frozenset({c.RES_S_OK, c.RES_E_NOT_FOUND})
"""``last_error()`` codes beside a None that mean the read found nothing, not that it failed."""


class LinkDown(Exception):
    """The terminal (or bridge) could not be reached and nothing was sent."""


class _SpecMemo(NamedTuple):
    """What one symbol specification decides, remembered while it is the cached one."""

    rules: SymbolRules
    volumes: dict[str, Decimal]
    """Quantities asked, by their text -> lots on the volume grid (at most
    ``_VOLUMES_KEPT``). Keyed by text: a Decimal's first hash costs ~5k instructions
    (a modular power), its text a tenth of that, and each order brings a new one."""
    fillings: dict[tuple[OrderType, TimeInForce], int]
    """(order type, time in force) -> the filling policy chosen."""


class SessionReads:
    """The account as the worker thread sees it: mode, magic, symbol rules, clock."""

    def __init__(self, mt5: Any, cfg: Mt5Config, *, magic: int, hedging: bool, fifo: bool) -> None:
        """``mt5`` is the module (or bridge) every call goes to."""
        self.mt5 = mt5
        self.cfg = cfg
        # What every order reads of the (frozen) config, as plain attributes: a
        # pydantic field read costs twice as much.
        self.deviation = cfg.deviation_points
        self.requote_retries = cfg.requote_retries
        self.others_too = cfg.manage_other_positions
        """``manage_other_positions``: positions of any magic may be touched."""
        self.magic = magic
        self.hedging = hedging
        self.fifo = fifo
        self.clock = ServerClock(cfg.server_utc_offset_minutes)
        self._symbols: TtlCache[str, SymbolRules] = TtlCache(cfg.symbol_cache_s, maxlen=4096)
        self._memos: dict[str, _SpecMemo] = {}

    # ------------------------------------------------------------------ reads

    def fail(self, doing: str) -> LinkDown:
        """A :class:`LinkDown` saying what failed, with ``last_error()``."""
        code, text = self.mt5.last_error()
        return LinkDown(f"{doing} failed ({code}, {text})")

    def rules(self, name: str) -> SymbolRules:
        """The symbol's cached rules, read (and selected into Market Watch) when stale.

        Raises :class:`OrderDenied` for a symbol the broker lacks, :class:`LinkDown`,
        and :class:`~fks_exec.kit.BadBrokerNumber` for a specification with a number no
        symbol can have (it is not cached).
        """
        cached = self._symbols.get(name)
        if cached is not None:
            return cached
        mt5 = self.mt5
        info = mt5.symbol_info(name)
        if info is None:
            code, text = mt5.last_error()
            if last_error_of(code).fate is Fate.UNAVAILABLE:
                raise LinkDown(f"symbol_info failed ({code}, {text})")
            raise OrderDenied(f"the broker has no symbol {name!r}")
        if not info.select:
            if not mt5.symbol_select(name, True):
                raise self.fail(f"selecting {name} in Market Watch")
            info = mt5.symbol_info(name)
            if info is None:
                raise self.fail(f"symbol_info({name!r})")
        rules = SymbolRules.of(info)
        self._symbols.set(name, rules)
        return rules

    def forget_symbols(self) -> None:
        """Drop the cached symbol rules (they are read again on the next order)."""
        self._symbols.clear()
        self._memos.clear()

    def lots(self, quantity: Decimal, rules: SymbolRules) -> Decimal:
        """:func:`~fks_exec_mt5.mapping.rounded_volume` of ``quantity``, remembered for
        these ``rules`` (new rules start afresh; a refusal is raised every time)."""
        volumes = self._memo(rules).volumes
        text = str(quantity)
        volume = volumes.get(text)
        if volume is None:
            volume = rounded_volume(quantity, rules)
            if len(volumes) < _VOLUMES_KEPT:
                volumes[text] = volume
        return volume

    def _memo(self, rules: SymbolRules) -> _SpecMemo:
        memo = self._memos.get(rules.name)
        if memo is None or memo.rules is not rules:
            memo = self._memos[rules.name] = _SpecMemo(rules, {}, {})
        return memo

    def filling(self, order: Order, rules: SymbolRules) -> int:
        """:func:`~fks_exec_mt5.prechecks.choose_filling` for ``order``, remembered for
        these ``rules`` per order type and time in force (a refusal is raised every
        time)."""
        fillings = self._memo(rules).fillings
        fields = order.__dict__  # a pydantic attribute read costs twice a dict lookup
        key = (fields["type"], fields["time_in_force"])
        filling = fillings.get(key)
        if filling is None:
            filling = fillings[key] = choose_filling(rules, order)
        return filling

    def tick(self, symbol: str) -> Any:
        """The symbol's last tick (its time teaches the clock); :class:`LinkDown` if none,
        :class:`~fks_exec.kit.BadBrokerNumber` for a stamp that is not a time. Its prices
        are read with bounds where they are used."""
        tick = self.mt5.symbol_info_tick(symbol)
        if tick is None:
            raise self.fail(f"no price for {symbol}: symbol_info_tick")
        stamp = tick.time_msc
        if type(stamp) is not int or not 0 <= stamp < LATEST_MS:  # the usual one passes
            stamp = time_ms_of(stamp, f"tick {symbol} time_msc")
        self.clock.observe(stamp, symbol=symbol)
        return tick

    def tickets(self, symbol: str | None = None) -> list[Ticket]:
        """Every open position (of ``symbol``), any magic; :class:`LinkDown` on failure."""
        found = (
            self.mt5.positions_get() if symbol is None else self.mt5.positions_get(symbol=symbol)
        )
        if found is None:
            code, _ = self.mt5.last_error()
            if code != c.RES_S_OK:
                raise self.fail("positions_get")
            found = ()
        return [Ticket.of(p) for p in found]

    def mine(self, tickets: list[Ticket]) -> list[Ticket]:
        """The tickets this plugin may touch (its magic, or all if configured)."""
        return owned(tickets, self.magic, others_too=self.others_too)

    # ------------------------------------------------------------------ cancel

    def find_working(self, ticket: int) -> Any:
        """The working order ``ticket`` (None if none); :class:`LinkDown` when the read
        failed: only success or RES_E_NOT_FOUND beside a None says there is none (a
        timeout or any other failure says nothing about the order)."""
        found = self.mt5.orders_get(ticket=ticket)
        if found is None:
            code, _ = self.mt5.last_error()
            if code not in _NOTHING_FOUND:
                raise self.fail("orders_get")
            return None
        return found[0] if found else None

    def history_window(self) -> tuple[int, int]:
        """(from, to) in server seconds covering ``history_days`` until tomorrow."""
        now = time.time()
        offset = int(self.clock.offset.total_seconds())
        slack = 0 if self.clock.known else 14 * 3600
        return (
            int(now) + offset - self.cfg.history_days * 86_400 - slack,
            int(now) + offset + 86_400 + slack,
        )
