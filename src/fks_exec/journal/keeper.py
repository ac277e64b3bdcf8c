"""How an executor uses its journal: claim before sending, record after, reconcile.

:class:`JournalKeeper` is the one code path every backend goes through. It asks a
plugin for lookup hints when an order is sent and answered, and finds orders again
with the plugin's ``find_order`` and those hints.

Shared journals (several processes, several hosts): while the journal is open the
keeper renews this handle's leases every ``lease_s / 3``; a claim that finds the id
``sending`` under another live holder waits (up to ``claim_wait_s``) for its result;
an entry whose holder is gone is adopted (one process wins) and reconciled, never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from fks_exec.errors import FksExecError, NotSupported
from fks_exec.journal.base import (
    Journal,
    forget_live_owner,
    hold,
    new_owner,
    note_live_owner,
    release,
)
from fks_exec.journal.hints import gives_hints, lookup_hints
from fks_exec.journal.memory import MemoryJournal
from fks_exec.journal.models import (
    Claim,
    JournalEntry,
    JournalState,
    JournalUpdate,
    state_for,
    status_news,
    was_not_sent,
)
from fks_exec.journal.recovery import resume, summary_line, unknown_result
from fks_exec.models import ExecutionResult, Order, OrderStatus
from fks_exec.plugin import ExecutionPlugin

__all__ = ["JournalKeeper", "gives_hints", "lookup_hints"]

logger = logging.getLogger("fks_exec.journal")

_FIRST_PAUSE_S, _LONGEST_PAUSE_S = 0.01, 0.2


class JournalKeeper:
    """Claims, records and reconciles orders in ``journal`` for one executor."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._memory = journal if isinstance(journal, MemoryJournal) else None
        """The journal again when it is the in-process one, whose synchronous fast paths
        the hot path takes (no update objects, no awaits)."""
        self._open = False
        self.claims_at_once = False
        """True while :meth:`claim_now` may be used instead of awaiting :meth:`claim`
        (the in-process journal, open)."""
        self._recovered: dict[str, asyncio.Future[Counter[str]]] = {}
        self.recovered: set[str] = set()
        """Plugins whose start-up reconciliation has finished (see :meth:`recover`)."""
        self._renewing: asyncio.Task[None] | None = None
        self._opening: asyncio.Task[None] | None = None  # see ensure_open
        self.shut = False
        """True from :meth:`close` until ``ensure_open(reopen=True)`` (the executor's
        start): no start-up reconciliation runs and nothing is recorded not sent (a
        plugin that finishes starting after the close reopens nothing, adopts nothing)."""
        self._left_open: set[str] = set()
        """Ids this handle adopted whose lookup could not be made (:meth:`leave_open`):
        the next start-up reconciliation of their plugin takes them."""

    async def ensure_open(self, *, reopen: bool = False) -> None:
        """Open the journal once and start renewing its leases; callers that come while
        it opens wait for that one opening. ``reopen``: the executor starts (again), and
        what :meth:`close` shut is open again. Raises what :meth:`Journal.open` raises,
        and :class:`ConfigurationError` when another executor's keeper has this journal
        object open (each executor needs its own object; they may share the file)."""
        if reopen:
            self.shut = False
        if not self._open:
            if self._opening is None:
                hold(self.journal, self)
                self._opening = asyncio.get_running_loop().create_task(self._open_once())
            await asyncio.shield(self._opening)  # a cancelled caller leaves it to the others

    def refuse_if_held(self) -> None:
        """Raise :class:`ConfigurationError` when another executor's keeper has this
        journal object open (see :func:`~fks_exec.journal.base.hold`)."""
        hold(self.journal, self, take=False)

    async def _open_once(self) -> None:
        try:
            await self.journal.open()
            self._open = True
            self.claims_at_once = self._memory is not None
            note_live_owner(self.journal.owner)
            self._renewing = asyncio.get_running_loop().create_task(self._renew_forever())
        except BaseException:
            release(self.journal, self)
            raise
        finally:
            self._opening = None

    async def close(self, unsent: Sequence[Order] = ()) -> None:
        """Record ``unsent`` (claimed orders that never reached a plugin) not sent,
        commit queued writes, end this handle's leases and close the journal, which
        stays shut (see :attr:`shut`) until the executor starts again: it is reopened
        then under a new owner, whose recovery reconciles the entries this opening left
        open (those a close cut off) as an earlier process's."""
        self.shut = True
        if self._opening is not None:  # closed while opening: close what it opens
            await asyncio.wait([self._opening])
        self._recovered.clear()
        self.recovered.clear()
        self._left_open.clear()
        renewing, self._renewing = self._renewing, None
        if renewing is not None:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        was_open, self._open = self._open, False
        self.claims_at_once = False
        try:
            if was_open or self._memory is not None:  # the memory journal claims unopened
                for order in unsent:
                    await self._not_sent(order, "the executor closed before its plugin started")
            if was_open:
                await self.journal.flush()
                await self.journal.release_leases()
        finally:
            if was_open:
                forget_live_owner(self.journal.owner)
                self.journal.owner = new_owner()  # the next opening's (see the docstring)
                release(self.journal, self)
                await self.journal.close()

    async def _renew_forever(self) -> None:
        period = max(self.journal.lease_s / 3, 0.01)
        while True:
            await asyncio.sleep(period)
            try:
                await self.journal.renew_leases()
            except FksExecError as exc:
                logger.warning("journal: renewing leases failed (retried): %s", exc)

    # ------------------------------------------------------------------ sending

    def claim_now(
        self, order: Order, plugin: str, instance: ExecutionPlugin | None
    ) -> JournalEntry | None:
        """:meth:`claim` without an await, while :attr:`claims_at_once` (raises
        ``RuntimeError`` otherwise): None when the caller owns the send, else the entry
        already under the id."""
        memory = self._memory
        if memory is None or not self._open:
            raise RuntimeError("claim_now needs the in-process journal, open; await claim()")
        unclaimed = memory.claim_now(order, plugin, lookup_hints(instance, order, None))
        return None if unclaimed is None else unclaimed.entry

    async def claim(
        self, order: Order, plugin: str, instance: ExecutionPlugin | None
    ) -> JournalEntry | None:
        """Commit the intent to send ``order`` through ``plugin`` (see :meth:`Journal.claim`)
        and return None when the caller now owns the send, else the entry already under
        the id (answer from it; never send).

        When another live holder is sending the same order under the id, wait (up to the
        journal's ``claim_wait_s``) until it records a result, gives the id up (then
        claim it here), or is gone (then adopt the entry: the caller reconciles it).
        Raises what the journal raises (:class:`~fks_exec.journal.JournalError`).
        """
        if not self._open:
            await self.ensure_open()
        if self._memory is not None:  # one process, one owner: nothing is held elsewhere
            return self.claim_now(order, plugin, instance)
        hints = lookup_hints(instance, order, None)
        claim = await self.journal.claim_to_send(order, plugin, hints)
        if claim is None:
            return None  # the common case: the id was new
        return await self.unclaimed(order, plugin, hints, claim)

    async def unclaimed(
        self, order: Order, plugin: str, hints: Mapping[str, str], claim: Claim
    ) -> JournalEntry | None:
        """What :meth:`claim` answers when the journal's claim of ``order`` (with
        ``hints``) found ``claim``, an entry already under the id: that entry, or None
        once the id is claimed here after all (waiting as :meth:`claim` says). Raises
        what the journal raises."""
        journal = self.journal
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + journal.claim_wait_s, _FIRST_PAUSE_S
        while True:
            entry = claim.entry
            if not self._held_elsewhere(entry):
                return entry
            if not entry.order.same_request(order):
                return entry  # a different order: the caller refuses it at once
            if await self._adopt([entry]):
                return replace(entry, owner=journal.owner)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return entry
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, _LONGEST_PAUSE_S)
            again = await journal.claim_to_send(order, plugin, hints)
            if again is None:
                return None
            claim = again

    def _held_elsewhere(self, entry: JournalEntry) -> bool:
        return entry.state is JournalState.SENDING and entry.owner != self.journal.owner

    async def _adopt(self, entries: Sequence[JournalEntry]) -> set[str]:
        """The ids among ``entries`` this handle now owns (their holder was gone)."""
        gone = {e.owner for e in entries if self.journal.is_gone(e.owner)}
        return await self.journal.adopt([e.client_order_id for e in entries], gone)

    async def switch_plugin(self, order: Order, plugin: str) -> None:
        """Durably note that the order now goes to fallback ``plugin`` (nothing was sent)."""
        update = JournalUpdate(
            order.client_order_id, JournalState.SENDING, "fallback", plugin=plugin
        )
        await self.journal.record(update)

    async def record_not_sent(self, order: Order, error: BaseException) -> None:
        """Durably record that nothing reached a broker, so the id may be sent again;
        nothing while :attr:`shut` (the close recorded it, or the next start
        reconciles it)."""
        if not self.shut:
            await self._not_sent(order, f"{type(error).__name__}: {error}")

    async def _not_sent(self, order: Order, error: str) -> None:
        update = JournalUpdate(
            order.client_order_id, JournalState.NOT_SENT, "not_sent", detail={"error": error}
        )
        await self.journal.record(update)

    async def record_result(
        self, result: ExecutionResult, instance: ExecutionPlugin | None, order: Order
    ) -> None:
        """Record a plugin's answer: queued, or durably when it says nothing was sent
        (a retry in another process must see that)."""
        hints = lookup_hints(instance, order, result)
        if self._memory is not None:
            self._memory.note_result(result, hints)
            return
        if state_for(result) is JournalState.NOT_SENT:
            await self.journal.record(JournalUpdate.from_result(result, hints=hints))
        else:
            self.journal.record_result_soon(result, hints)

    def record_sent(
        self, result: ExecutionResult, instance: ExecutionPlugin | None, order: Order
    ) -> None:
        """Queue the answer of an order that was (or may have been) sent: no await, as
        its intent is already durable. Use :meth:`record_result` for ``sent=False``."""
        hints = lookup_hints(instance, order, result)
        if self._memory is not None:
            self._memory.note_result(result, hints)
        else:
            self.journal.record_result_soon(result, hints)

    def record_soon(self, result: ExecutionResult, kind: str = "result") -> None:
        """Queue ``result`` as an event of its client order id."""
        if self._memory is not None:
            self._memory.note_result(result, {}, kind)
        else:
            self.journal.record_result_soon(result, {}, kind)

    async def note_status(self, result: ExecutionResult, plugin: str) -> None:
        """Record ``result``, ``plugin``'s answer, as a status change of an order this
        process does not hold in memory, when the journal has that id for ``plugin``
        and the status or fill changed. Raises what the journal raises."""
        cid = result.client_order_id
        if cid is None:
            return
        await self.ensure_open()
        entry = await self.journal.get(cid)
        if entry is None or entry.state is JournalState.NOT_SENT or entry.plugin != plugin:
            return
        if status_news(entry.result, result):
            await self.journal.record(JournalUpdate.from_result(result, "status"))

    # ------------------------------------------------------------------ reconciling

    async def reconcile(
        self, plugin: ExecutionPlugin | None, entry: JournalEntry
    ) -> tuple[str, ExecutionResult]:
        """Look ``entry`` up at the broker, record what was found, and return the outcome
        (``found``, ``not_sent``, ``not_found``, ``lookup_failed``, ``no_plugin``) with
        the result to report. An order is marked not sent only when the plugin proves it
        (a found result with ``sent=False``)."""
        cid, order = entry.client_order_id, entry.order
        found: ExecutionResult | None = None
        outcome = "no_plugin"
        if plugin is not None:
            hints = {**lookup_hints(plugin, order, entry.result), **entry.hints}
            try:
                found = await plugin.find_order(cid, hints)
                outcome = "found" if found is not None else "not_found"
            except NotSupported:
                outcome = "lookup_unsupported"
            except FksExecError as exc:
                logger.info("journal: looking up %s on %r failed: %s", cid, entry.plugin, exc)
                outcome = "lookup_failed"
        if found is not None and found.status is not OrderStatus.UNKNOWN:
            outcome = "not_sent" if was_not_sent(found) else "found"
            hints = lookup_hints(plugin, order, found)
            await self.journal.record(JournalUpdate.from_result(found, "reconciled", hints=hints))
            return outcome, found
        if self._held_elsewhere(entry):
            # Still in flight at a live holder: its result will come; record nothing.
            return outcome, unknown_result(entry, "held_elsewhere")
        state = JournalState.UNKNOWN if entry.state is JournalState.SENDING else entry.state
        detail = {"outcome": "not_found" if outcome == "found" else outcome}
        await self.journal.record(JournalUpdate(cid, state, "reconcile", detail=detail))
        if entry.result is not None and entry.result.status is not OrderStatus.UNKNOWN:
            return outcome, entry.result
        return outcome, unknown_result(entry, outcome)

    def leave_open(self, entry: JournalEntry) -> None:
        """``entry``, which this handle adopted, could not be looked up (its plugin did
        not start): the start-up reconciliation of its plugin takes it. An entry
        another holder owns is left to it."""
        if entry.owner == self.journal.owner:
            self._left_open.add(entry.client_order_id)

    async def recover(self, name: str, plugin: ExecutionPlugin) -> Counter[str]:
        """Reconcile, once per opening, every open entry an earlier process (or another
        handle) left for ``name``; concurrent callers wait for the same run."""
        if self.shut:  # closed: a plugin starting now reopens nothing, adopts nothing
            return Counter()
        running = self._recovered.get(name)
        if running is None:
            running = asyncio.get_running_loop().create_future()
            self._recovered[name] = running
            try:
                running.set_result(await self._recover(name, plugin))
                if self._recovered.get(name) is running:  # not closed meanwhile
                    self.recovered.add(name)
            except BaseException as exc:
                del self._recovered[name]
                running.set_exception(exc)
                running.exception()  # retrieved: the caller gets it raised below
                raise
        return await asyncio.shield(running)

    async def _recover(self, name: str, plugin: ExecutionPlugin) -> Counter[str]:
        await self.ensure_open()
        counts: Counter[str] = Counter()
        owner = self.journal.owner
        # This handle's own orders are in flight right now; another live holder's are
        # its to watch. The rest are adopted (one process wins each) and reconciled.
        found = await self.journal.entries(open_only=True, plugins=[name])
        others = [e for e in found if e.owner != owner]
        adopted = await self._adopt(others) if others else set()
        if len(adopted) < len(others):
            counts["held_elsewhere"] += len(others) - len(adopted)
        left = {
            e.client_order_id
            for e in found
            if e.owner == owner and e.client_order_id in self._left_open
        }
        self._left_open -= left  # adopted by this handle, but not looked up yet
        adopted |= left
        for entry in found:
            if entry.client_order_id not in adopted:
                continue
            entry = replace(entry, owner=owner)
            outcome, result = await self.reconcile(plugin, entry)
            counts[outcome] += 1
            if outcome == "found":
                counts[state_for(result).value] += 1
                await resume(plugin, entry.order, result, counts)
        return counts

    async def recover_and_report(
        self, plugins: Mapping[str, ExecutionPlugin], *, report_nothing: bool = True
    ) -> None:
        """:meth:`recover` each of ``plugins`` (by name) and log one summary line: a
        warning when anything was found open, else (``report_nothing``) an info line.
        Raises what :meth:`recover` raises."""
        found = {name: await self.recover(name, plugin) for name, plugin in plugins.items()}
        if any(found.values()):
            logger.warning(summary_line(self.journal.location, found))
        elif report_nothing:
            logger.info(summary_line(self.journal.location, found))

    def is_recovered(self, name: str) -> bool:
        """True once :meth:`recover` finished for ``name``."""
        return name in self.recovered
