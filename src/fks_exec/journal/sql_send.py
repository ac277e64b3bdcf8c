"""The first send of an order under an SQL journal, in two frames: :class:`SqlJournalSend`.

:meth:`Executor.execute <fks_exec.executor.Executor.execute>` hands it every first send
of a client order id to a started plugin without fallbacks whose start-up
reconciliation is done, when the journal is not the in-process one. It does what
:meth:`OncePerClientId.first_send <fks_exec._once_per_id.OncePerClientId.first_send>`
does for that case, with the keeper's claim, the journal's and its writer's frames and
the shutdown gate's ``send`` inlined: the order is remembered in flight, its intent is
claimed by awaiting the journal's own future (:meth:`Journal.claim_soon`), and only
once that claim is committed is the order handed to the plugin; the answer is queued
(its intent is durable already) and remembered. Every other outcome (an id the journal
already has, nothing sent, a refusal, an interruption, ``unknown``) goes to the same
code as on the general path.
"""

from __future__ import annotations

from asyncio import CancelledError
from typing import Any

from fks_exec._dispatch import Dispatcher
from fks_exec._loops import running_loop
from fks_exec._once_per_id import OncePerClientId, not_taken
from fks_exec._order_memory import OrderMemory
from fks_exec._shutdown import ShutdownGate, running_tasks
from fks_exec.errors import BrokerUnavailable, FksExecError
from fks_exec.journal.keeper import JournalKeeper, lookup_hints
from fks_exec.journal.models import Claim
from fks_exec.models import ExecutionResult, Order, OrderStatus
from fks_exec.plugin import ExecutionPlugin

__all__ = ["SqlJournalSend"]

_UNKNOWN = OrderStatus.UNKNOWN  # each OrderStatus.X read costs ~0.3 us on Python 3.11


class SqlJournalSend:
    """One executor's first sends under an SQL journal (see the module docstring)."""

    def __init__(
        self,
        memory: OrderMemory,
        keeper: JournalKeeper,
        once: OncePerClientId,
        dispatch: Dispatcher,
        gate: ShutdownGate,
    ) -> None:
        self._memory = memory
        self._keeper = keeper
        self._once = once
        self._dispatch = dispatch
        self._gate = gate
        self._loop: Any = None
        """The last order's loop (None: ask asyncio, whose answer costs a ``getpid()``)."""

    async def send(
        self, order: Order, cid: str, primary: str, ready: ExecutionPlugin, plugin: str | None
    ) -> ExecutionResult:
        """Claim ``order`` (id ``cid``, not remembered) for ``primary`` (``ready``,
        started, without fallbacks, reconciled), send it once the intent is committed,
        queue its answer and return it. ``plugin`` is what the caller named (for a
        resend of an id the journal says was not sent). Raises what
        :meth:`~fks_exec.executor.Executor.execute` raises."""
        if self._keeper.claims_at_once:  # a memory journal's subclass: the general path
            return await self._once.first_send(order, cid, primary, ready, plugin)
        memory, journal, gate = self._memory, self._keeper.journal, self._gate
        since = gate.epoch
        entry = memory.begin(order)
        claimed = False
        try:
            hints = lookup_hints(ready, order, None)
            done = await journal.claim_soon(order, primary, hints)
            if done.__class__ is Claim:  # the id was in the journal already
                recorded = await self._keeper.unclaimed(order, primary, hints, done)
                if recorded is not None:
                    return await self._once.journaled(entry, recorded, order, plugin)
            claimed = True
            if gate.epoch is not since:  # a close began while it claimed: nothing is sent
                raise gate.refusal(f"order {cid}")
            entry.plugin = primary
            self._loop = loop = running_loop(self._loop)
            task = running_tasks.get(loop)  # gate.send(), inlined
            gate.sends.add(task)  # type: ignore[arg-type]  # always inside a task
            try:
                result = await ready.execute_claimed(order, memory.entries)
            except BrokerUnavailable as exc:
                raise not_taken(cid, primary, exc) from exc
            except CancelledError:
                unknown = gate.cut_off(task, ready, order)  # type: ignore[arg-type]
                if unknown is None:
                    raise  # the caller itself was cancelled
                result = unknown
            finally:
                gate.sends.discard(task)  # gate.sent(), inlined
                if gate.cut:
                    gate.cut.discard(task)
            if result.status is _UNKNOWN:
                result = await self._dispatch.reconcile(primary, result, order)
        except FksExecError as exc:
            await self._once.not_sent(entry, exc, claimed)
            raise
        except BaseException:
            self._once.interrupted(entry, claimed)
            raise
        if result.sent is False:
            await self._once.refused(entry, result, ready)
            return result
        try:  # the answer of a send: queued (its intent is durable already)
            journal.record_result_soon(result, lookup_hints(ready, order, result))
        except Exception as exc:
            return self._once.unrecorded(entry, result, exc)
        memory.settle(entry, result)
        return result
