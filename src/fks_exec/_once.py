"""One send per client order id inside a plugin: :class:`OncePerId`.

Concurrent calls with one client order id are merged into one send, and the outcome
of a recent send is remembered (bounded), so a caller that retries after an uncertain
answer gets the first order's fate instead of a second order. Calls that sent nothing
(``BrokerUnavailable`` raised, or a result with ``sent=False``) are not remembered,
so a retry of those is sent. The executor and the journal keep the long memory; this
only covers a plugin that is called directly.

An executor sends through the plugin without this memory (it keeps one record per id
itself: :meth:`~fks_exec.plugin.ExecutionPlugin.execute_claimed`) and hands over its
own record of ids (:meth:`OncePerId.consult`), which every direct call looks in too: a
direct call with an id the executor has in flight waits for it, one it has answered
gets that answer. The executor, in turn, takes the path through this memory whenever
it holds the id (:meth:`OncePerId.holds`), so neither side sends an id the other sent.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from fks_exec.errors import DuplicateClientOrderId
from fks_exec.models import ExecutionResult, Order, OrderStatus

__all__ = ["OncePerId"]

Send = Callable[[Order], Awaitable[ExecutionResult]]
Reconcile = Callable[[ExecutionResult], Awaitable[ExecutionResult]]
Interrupted = Callable[[Order], ExecutionResult]


class Claimed(Protocol):
    """An id another memory owns (the executor's record of it): its order, its result
    (None while that send is in flight, or when nothing was sent), whether its send is
    in flight, and a way to wait for the send to end."""

    order: Order
    result: ExecutionResult | None

    @property
    def in_flight(self) -> bool: ...

    def settled(self) -> Awaitable[None]: ...


class OncePerId:
    """Merges in-flight calls per client order id and remembers ``remember`` outcomes."""

    __slots__ = ("_consulted", "_inflight", "_latest", "_recent", "_remember")

    def __init__(self, remember: int = 10_000) -> None:
        if remember < 1:
            raise ValueError("remember must be at least 1")
        self._remember = remember
        self._inflight: dict[str, _Call] = {}
        self._recent: OrderedDict[str, tuple[Order, ExecutionResult]] = OrderedDict()
        self._consulted: tuple[Mapping[str, Claimed], ...] = ()
        self._latest: Mapping[str, Claimed] | None = None

    def consult(self, claims: Mapping[str, Claimed]) -> None:
        """Look in ``claims`` too (an executor's ids) before a direct call sends: an id
        found there in flight is waited for, one answered there is answered from it. A
        mapping is kept once, however often it is handed over."""
        if claims is self._latest:
            return
        self._latest = claims
        if not any(kept is claims for kept in self._consulted):
            self._consulted += (claims,)

    def stop_consulting(self) -> None:
        """Forget every mapping :meth:`consult` was given (the plugin closed)."""
        self._consulted, self._latest = (), None

    def holds(self, client_order_id: str) -> bool:
        """True when a call with ``client_order_id`` is in flight here or its outcome is
        remembered here (a sender that skips this memory must go through :meth:`run`)."""
        return client_order_id in self._inflight or client_order_id in self._recent

    def __len__(self) -> int:
        return len(self._recent)

    def forget(self, client_order_id: str) -> None:
        """Drop what is remembered of ``client_order_id`` (not a call in flight)."""
        self._recent.pop(client_order_id, None)

    async def run(
        self, order: Order, send: Send, reconcile: Reconcile, interrupted: Interrupted
    ) -> ExecutionResult:
        """Send ``order`` once: join a call in flight, or answer from memory, or send.

        ``reconcile`` is asked again for a remembered ``unknown`` result;
        ``interrupted`` builds the result that joined callers get when the sending call
        is cancelled. Raises :class:`DuplicateClientOrderId` when the id belongs to a
        different order, and whatever ``send`` raises (to every joined caller).
        """
        cid = order.client_order_id
        inflight, recent = self._inflight, self._recent
        pending = inflight.get(cid)
        if pending is not None:
            _check_same(pending.order, order)
            return await asyncio.shield(pending.joined())
        known = recent.get(cid)
        if known is not None:
            _check_same(known[0], order)
            result = known[1]
            if result.status is OrderStatus.UNKNOWN:
                result = await reconcile(result)
                if cid in recent:
                    recent[cid] = (known[0], result)
            return result
        if self._consulted:
            claimed = _claimed(self._consulted, cid)
            if claimed is not None:
                _check_same(claimed.order, order)
                answer = claimed.result
                if answer is None:  # in flight there: wait, then look again
                    await claimed.settled()
                    return await self.run(order, send, reconcile, interrupted)
                if answer.sent is not False:  # answered there (refused: send it here)
                    if answer.status is OrderStatus.UNKNOWN:
                        return await reconcile(answer)
                    return answer
        call = inflight[cid] = _Call(order)
        try:
            result = await send(order)
        except Exception as exc:
            call.fail(exc)
            raise
        except BaseException:
            unknown = interrupted(order)
            self._keep(cid, order, unknown)
            call.succeed(unknown)
            raise
        finally:
            del inflight[cid]
        if result.sent is not False:
            recent[cid] = (order, result)  # self._keep(), inlined: once per order
            if len(recent) > self._remember:
                recent.popitem(last=False)
        if call.future is not None:  # somebody joined (call.succeed(), inlined)
            call.succeed(result)
        return result

    def _keep(self, cid: str, order: Order, result: ExecutionResult) -> None:
        recent = self._recent
        recent[cid] = (order, result)
        if len(recent) > self._remember:
            recent.popitem(last=False)


class _Call:
    """A send in flight; a future is made only when a second caller joins it."""

    __slots__ = ("future", "order")

    def __init__(self, order: Order) -> None:
        self.order = order
        self.future: asyncio.Future[ExecutionResult] | None = None

    def joined(self) -> asyncio.Future[ExecutionResult]:
        if self.future is None:
            self.future = asyncio.get_running_loop().create_future()
            self.future.add_done_callback(_consume)
        return self.future

    def succeed(self, result: ExecutionResult) -> None:
        if self.future is not None and not self.future.done():
            self.future.set_result(result)

    def fail(self, exc: BaseException) -> None:
        if self.future is not None and not self.future.done():
            self.future.set_exception(exc)


def _claimed(consulted: tuple[Mapping[str, Claimed], ...], cid: str) -> Claimed | None:
    # An id there with no result and no send in flight was never sent: it is not claimed.
    for claims in consulted:
        claimed = claims.get(cid)
        if claimed is not None and (claimed.result is not None or claimed.in_flight):
            return claimed
    return None


def _check_same(first: Order, again: Order) -> None:
    if first is not again and not first.same_request(again):
        raise DuplicateClientOrderId.reused(again.client_order_id)


def _consume(future: asyncio.Future[ExecutionResult]) -> None:
    # Retrieve an exception nobody joined for, so asyncio does not log it as lost.
    if not future.cancelled():
        future.exception()
