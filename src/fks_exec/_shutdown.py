"""How the executor closes without losing an order: :class:`ShutdownGate`.

Once :meth:`ShutdownGate.drain` begins, no send starts (``refuse`` raises
:class:`BrokerUnavailable`: nothing was sent), not even of a call that came in before
but had not reached its plugin yet (one waiting for the plugin to start, say). Calls
already inside are waited for up to ``timeout_s``; plugin sends still running then are
cancelled where they wait and their callers get an ``unknown`` result (the journal
keeps the intent open, so the next start reconciles it). Only then may the plugins
close; orders still waiting for a plugin to start then (:meth:`ShutdownGate.unstarted`)
are recorded not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from fks_exec.errors import BrokerUnavailable
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus

if TYPE_CHECKING:
    from fks_exec._once import Claimed
    from fks_exec.plugin import ExecutionPlugin

__all__ = ["ShutdownGate", "running_tasks"]


class _CurrentTasks:
    """``get(loop)`` is ``asyncio.current_task(loop)`` (where asyncio has no plain map)."""

    @staticmethod
    def get(loop: asyncio.AbstractEventLoop) -> asyncio.Task[Any] | None:
        return asyncio.current_task(loop)


def _running_tasks() -> Mapping[asyncio.AbstractEventLoop, asyncio.Task[Any]] | _CurrentTasks:
    # Python 3.10/3.11 keep the running task of each loop in one dict, which their
    # (pure Python) current_task() reads: reading it inline saves a Python call per
    # order. Elsewhere current_task() is used as it is (in C from 3.12).
    tasks_module: Any = asyncio.tasks
    kept = getattr(tasks_module, "_current_tasks", None)
    if asyncio.current_task.__module__ == "asyncio.tasks" and isinstance(kept, dict):
        return kept
    return _CurrentTasks()


running_tasks = _running_tasks()
"""``running_tasks.get(asyncio.get_running_loop())`` is the task running now."""

logger = logging.getLogger("fks_exec.executor")

_GRACE_S = 2.0
"""After cutting sends off, how long their callers get to record what became of them."""


class ShutdownGate:
    """Counts the executor's calls in flight and runs plugin sends as tracked tasks."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.closing = False
        self._close_done: asyncio.Event | None = None
        self.calls = 0
        """Order calls inside the executor now. ``Executor.execute`` counts itself in on
        its hot path (after :meth:`refuse`) and out in a ``finally``, where the last call
        out sets :attr:`idle`."""
        self.idle: asyncio.Event | None = None
        """What :meth:`drain` waits on: set when the last call leaves while it waits."""
        self.sends: set[asyncio.Task[Any]] = set()
        """Tasks inside a plugin send now (what :meth:`drain` may cut off). A sender adds
        its task before awaiting the plugin and, in a ``finally``, calls :meth:`sent`."""
        self.cut: set[asyncio.Task[Any]] = set()
        """The tracked tasks :meth:`drain` cancelled (their callers get ``unknown``)."""
        self.epoch = object()
        """A token :meth:`drain` replaces as it begins. A call reads it when it comes in
        (not closing) and passes it as ``since`` to :meth:`send` (or compares it
        itself): a close since then refuses its send even once the executor was started
        again."""
        self.starting: dict[str, Order] = {}
        """Claimed orders (by client order id) whose plugin is being started for them:
        what :meth:`unstarted` hands to the journal at close."""

    def refuse(self, what: str) -> None:
        """Raise :class:`BrokerUnavailable` when closing: ``what`` was not sent."""
        if self.closing:
            raise self.refusal(what)

    def refusal(self, what: str) -> BrokerUnavailable:
        """The error of ``what``, not sent because the executor is closing, or closed
        (and was started again) while the call waited."""
        if self.closing:
            return BrokerUnavailable(
                f"the executor is closing: {what} was not sent; start it again to send"
            )
        return BrokerUnavailable(
            f"the executor closed while this call waited: {what} was not sent; send it again"
        )

    async def send(
        self,
        plugin: ExecutionPlugin,
        order: Order,
        claims: Mapping[str, Claimed],
        since: object,
    ) -> ExecutionResult:
        """``plugin.execute_claimed(order, claims)``, which :meth:`drain` can cut off by
        cancelling the calling task there; a cut-off send answers ``unknown`` (it may
        have reached the broker). Raises :class:`BrokerUnavailable` (nothing sent) when
        a close began since ``since`` (:attr:`epoch` when the call came in, not
        closing). No task is created: the hot path stays as cheap as a plain call."""
        if since is not self.epoch:
            raise self.refusal(f"order {order.client_order_id}")
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always inside a task under asyncio
            return await plugin.execute_claimed(order, claims)
        self.sends.add(task)
        try:
            return await plugin.execute_claimed(order, claims)
        except asyncio.CancelledError:
            unknown = self.cut_off(task, plugin, order)
            if unknown is None:
                raise  # the caller itself was cancelled
            return unknown
        finally:
            self.sent(task)

    def sent(self, task: asyncio.Task[Any]) -> None:
        """``task``'s plugin send has ended (however): it is no longer tracked."""
        self.sends.discard(task)
        if self.cut:
            self.cut.discard(task)

    def cut_off(
        self, task: asyncio.Task[Any], plugin: ExecutionPlugin, order: Order
    ) -> ExecutionResult | None:
        """For a send of ``order`` through ``plugin`` that was cancelled: the ``unknown``
        result when :meth:`drain` cut ``task`` off (its cancellation is then taken
        back), or None when the caller itself was cancelled (re-raise it)."""
        if task not in self.cut:
            return None
        uncancel = getattr(task, "uncancel", None)  # Python 3.11+
        if uncancel is not None:
            uncancel()
        return ExecutionResult.for_order(
            order,
            plugin=plugin.name,
            status=OrderStatus.UNKNOWN,
            error=f"the executor closed after {self.timeout_s:g}s while the order was in "
            "flight; it may have reached the broker: reconcile with get_order after the "
            "next start (the journal keeps it open), do not resend",
            error_code=ErrorCode.UNKNOWN,
        )

    async def drain(self) -> None:
        """Refuse new sends, wait for calls in flight (``timeout_s``), cut off the sends
        still running, and give their callers a moment to record the outcome."""
        self.closing = True
        self.epoch = object()
        if not await self._wait_idle(self.timeout_s):
            pending = list(self.sends)
            logger.warning(
                "closing: %d order(s) still in flight after %gs are recorded unknown",
                len(pending),
                self.timeout_s,
            )
            for task in pending:
                self.cut.add(task)
                task.cancel()
            if not await self._wait_idle(_GRACE_S):
                logger.warning("closing: %d call(s) still running; closing anyway", self.calls)

    def unstarted(self) -> list[Order]:
        """The orders still waiting for their plugin to start (once :meth:`drain` has
        ended: for longer than ``timeout_s`` and the grace), taken from :attr:`starting`
        so that the journal records them not sent (they are refused once it started)."""
        orders = list(self.starting.values())
        self.starting.clear()
        return orders

    def reopen(self) -> None:
        """Accept sends again (the executor started again)."""
        self.closing = False

    @contextlib.asynccontextmanager
    async def whole_close(self) -> AsyncIterator[None]:
        """Mark the executor's whole ``close()`` (draining, closing the plugins and the
        journal), so that :meth:`after_close` can wait for it."""
        done = self._close_done = asyncio.Event()
        try:
            yield
        finally:
            done.set()

    async def after_close(self) -> None:
        """Wait for a ``close()`` in progress to end: a ``start()`` during it would have
        its plugins and journal closed under it by that close."""
        done = self._close_done
        if done is not None and not done.is_set():
            await done.wait()

    async def _wait_idle(self, timeout_s: float) -> bool:
        if self.calls == 0:
            return True
        self.idle = asyncio.Event()
        try:
            await asyncio.wait_for(self.idle.wait(), timeout_s)
        except asyncio.TimeoutError:
            return self.calls == 0
        return True
