"""What start-up reconciliation does with what it found: a reconciled bracket entry is
handed to the plugin's ``resume_order`` hook, one summary line says what was found, and
an entry still unresolved is answered ``unknown`` saying why (:func:`unknown_result`)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from fks_exec.journal.models import JournalEntry
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus
from fks_exec.plugin import ExecutionPlugin

__all__ = ["resume", "summary_line", "unknown_result"]

logger = logging.getLogger("fks_exec.journal")

_NOT_FOUND = (
    "an earlier process journaled this order as being sent and the broker has not shown "
    "it since; it is not sent again: look it up with get_order or at the broker"
)
_NOT_LOOKED_UP = (
    "an earlier process journaled this order as being sent and it was not looked up at "
    "the broker ({why}); it is not sent again: look it up with get_order or at the broker"
)
_WHY_NOT_LOOKED_UP = {
    "lookup_failed": "the lookup failed",
    "lookup_unsupported": "its plugin cannot look orders up",
    "no_plugin": "its plugin is not started",
}
_HELD_ELSEWHERE = (
    "another process ({owner}) is sending this order right now and its result was not "
    "in the journal within claim_wait_s; it is not sent again: look it up with get_order"
)


def unknown_result(entry: JournalEntry, outcome: str) -> ExecutionResult:
    """The ``unknown`` answer for ``entry`` after a reconciliation whose ``outcome``
    (``not_found``, ``lookup_failed``, ``held_elsewhere``, ...) left it unresolved: its
    error says what was done (never that the broker was asked when it was not)."""
    why = _WHY_NOT_LOOKED_UP.get(outcome)
    if outcome == "held_elsewhere":
        error = _HELD_ELSEWHERE.format(owner=entry.owner)
    else:
        error = _NOT_FOUND if why is None else _NOT_LOOKED_UP.format(why=why)
    return ExecutionResult.for_order(
        entry.order,
        plugin=entry.plugin,
        status=OrderStatus.UNKNOWN,
        error=error,
        error_code=ErrorCode.UNKNOWN,
    )


async def resume(
    plugin: ExecutionPlugin, order: Order, result: ExecutionResult, counts: Counter[str]
) -> None:
    """Hand a reconciled order to the plugin's ``resume_order`` hook, if it has one (a
    NinjaTrader plugin re-arms bracket exits of an entry that filled while away, and
    follows one still working so its exits go out at its first fill)."""
    if not order.has_bracket:
        return
    hook: Any = getattr(plugin, "resume_order", None)
    if result.filled_quantity == 0 and (hook is None or result.status.is_final):
        return
    if hook is None:
        counts["brackets_not_rearmed"] += 1
        logger.warning(
            "journal: order %s filled while no process watched it; plugin %r cannot re-arm "
            "its stop_loss/take_profit: check them at the broker",
            order.client_order_id,
            plugin.name,
        )
        return
    await hook(order, result)
    counts["brackets_rearmed"] += 1


def summary_line(location: str, counts: Mapping[str, Counter[str]]) -> str:
    """One line saying what start-up reconciliation found, per plugin."""
    parts = []
    for name, count in sorted(counts.items()):
        detail = ", ".join(f"{k} {v}" for k, v in sorted(count.items())) or "nothing open"
        parts.append(f"{name}: {detail}")
    return f"journal {location}: start-up reconciliation: " + ("; ".join(parts) or "no plugins")
