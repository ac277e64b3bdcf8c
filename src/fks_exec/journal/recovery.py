"""What start-up reconciliation does with what it found: a reconciled bracket entry is
handed to the plugin's ``resume_order`` hook, and one summary line says what was found."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from fks_exec.models import ExecutionResult, Order
from fks_exec.plugin import ExecutionPlugin

__all__ = ["resume", "summary_line"]

logger = logging.getLogger("fks_exec.journal")


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
