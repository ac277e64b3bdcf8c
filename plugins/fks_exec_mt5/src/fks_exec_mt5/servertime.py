"""Trade-server time to UTC and back.

The terminal stamps ticks, orders and deals with the trade server's clock, not UTC
(MQL5 distinguishes ``TimeTradeServer()`` from ``TimeGMT()``,
https://www.mql5.com/en/docs/dateandtime), and the history functions compare their
date arguments with those stamps. Brokers run their server clock at a whole offset
from UTC (often UTC+2, UTC+3 in summer). :class:`ServerClock` holds that offset: the
configured one, or an estimate from the newest tick seen, rounded to 15 minutes (a
tick is at most a few seconds old while the market is open, and never from the
future, so the largest estimate is the best one).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

__all__ = ["ServerClock"]

_STEP_S = 15 * 60
_LARGEST_OFFSET_S = 14 * 3600


class ServerClock:
    """The trade server's offset from UTC, configured or estimated from ticks."""

    def __init__(self, offset_minutes: int | None = None) -> None:
        """``offset_minutes`` fixes the offset; None estimates it from ticks."""
        self._fixed = offset_minutes is not None
        self._offset_s = (offset_minutes or 0) * 60
        self._estimated = self._fixed

    @property
    def offset(self) -> timedelta:
        """Server time minus UTC (zero until a tick was seen, when estimated)."""
        return timedelta(seconds=self._offset_s)

    @property
    def known(self) -> bool:
        """Whether the offset is configured or estimated from at least one tick."""
        return self._estimated

    def observe(self, server_msc: int, now: datetime | None = None) -> None:
        """Learn from a tick stamped ``server_msc`` (server milliseconds)."""
        if self._fixed or server_msc <= 0:
            return
        utc_now = time.time() if now is None else now.timestamp()
        raw = server_msc / 1000 - utc_now
        rounded = round(raw / _STEP_S) * _STEP_S
        if abs(rounded) > _LARGEST_OFFSET_S:
            return  # not a clock offset: a stale or broken stamp
        if not self._estimated or rounded > self._offset_s:
            self._offset_s = int(rounded)
            self._estimated = True

    def to_utc(self, server_seconds: float) -> datetime:
        """A server stamp (seconds) as an aware UTC datetime."""
        return datetime.fromtimestamp(server_seconds - self._offset_s, tz=timezone.utc)

    def to_server_seconds(self, utc: datetime) -> int:
        """An aware UTC datetime as the server's seconds (what history functions take)."""
        return int(utc.timestamp()) + self._offset_s
