"""Trade-server time to UTC and back.

The terminal stamps ticks, orders and deals with the trade server's clock, not UTC
(MQL5 distinguishes ``TimeTradeServer()`` from ``TimeGMT()``,
https://www.mql5.com/en/docs/dateandtime), and the history functions compare their
date arguments with those stamps. Brokers run their server clock at a whole offset
from UTC (often UTC+2, UTC+3 in summer). :class:`ServerClock` holds that offset: the
configured one, or an estimate from ticks, in steps of 15 minutes.

What a tick proves: it is never from the future, so its stamp minus UTC now is a
**lower bound** of the offset (a stale tick, e.g. at the weekend, gives too little);
the estimate rises to the largest lower bound seen. And a symbol's last tick only moves on
in real time: one never seen before was made after the last look at that symbol
(give or take the terminal's lag, allowed for), so its stamp minus the time of that
look is an **upper bound**. An estimate above an upper bound is too large (the
server's clock went back, as at the end of daylight saving) and is lowered to the
largest step within it. A tick seen before (a stale tick served again) or the first
tick of a symbol proves no upper bound, so a stale tick never pulls the estimate
down.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

__all__ = ["ServerClock"]

_STEP_S = 15 * 60
_LARGEST_OFFSET_S = 14 * 3600
_SKEW_S = 5 * 60
"""How far this machine's clock may be from the server's (an upper bound is widened
by it before it can lower the estimate)."""
_SYMBOLS_KEPT = 1024
_STAMPS_KEPT = 4
"""Stamps remembered per symbol, so that a tick served again is known as not new."""


class ServerClock:
    """The trade server's offset from UTC, configured or estimated from ticks."""

    def __init__(self, offset_minutes: int | None = None) -> None:
        """``offset_minutes`` fixes the offset; None estimates it from ticks."""
        self._fixed = offset_minutes is not None
        self._offset_s = (offset_minutes or 0) * 60
        self._estimated = self._fixed
        self._last: dict[str, tuple[float, tuple[int, ...]]] = {}
        """symbol -> (the UTC seconds of the last look at it, the last stamps seen)."""

    @property
    def offset(self) -> timedelta:
        """Server time minus UTC (zero until a tick was seen, when estimated)."""
        return timedelta(seconds=self._offset_s)

    @property
    def known(self) -> bool:
        """Whether the offset is configured or estimated from at least one tick."""
        return self._estimated

    def observe(self, server_msc: int, now: datetime | None = None, symbol: str = "") -> None:
        """Learn from a tick of ``symbol`` stamped ``server_msc`` (server milliseconds),
        read at ``now`` (UTC; default the system clock)."""
        if self._fixed or server_msc <= 0:
            return
        utc_now = time.time() if now is None else now.timestamp()
        stamp = server_msc / 1000
        lower = stamp - utc_now
        rounded = int(round(lower / _STEP_S) * _STEP_S)
        if abs(rounded) > _LARGEST_OFFSET_S:
            return  # not a clock offset: a stale or broken stamp
        if not self._estimated or rounded > self._offset_s:
            self._offset_s = rounded
            self._estimated = True
        previous = self._last.get(symbol)
        if previous is None:
            if len(self._last) >= _SYMBOLS_KEPT:
                del self._last[next(iter(self._last))]
            self._last[symbol] = (utc_now, (server_msc,))
            return
        looked, seen = previous
        if server_msc in seen:  # no new tick: only the look's time moves on
            self._last[symbol] = (utc_now, seen)
            return
        self._last[symbol] = (utc_now, (*seen[-(_STAMPS_KEPT - 1) :], server_msc))
        upper = stamp - looked  # a new tick: made after the last look
        if self._offset_s > upper + _SKEW_S:
            self._offset_s = max(rounded, int((upper + _SKEW_S) // _STEP_S) * _STEP_S)

    def to_utc(self, server_seconds: float) -> datetime:
        """A server stamp (seconds) as an aware UTC datetime."""
        return datetime.fromtimestamp(server_seconds - self._offset_s, tz=timezone.utc)

    def to_server_seconds(self, utc: datetime) -> int:
        """An aware UTC datetime as the server's seconds (what history functions take)."""
        return int(utc.timestamp()) + self._offset_s
