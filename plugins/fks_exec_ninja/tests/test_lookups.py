"""Orders NinjaTrader already has, found by id (fks_exec_ninja.lookups): an id it lists
is never placed again, a cancel says what became of the order, a lookup says whether
the order is listed, was sent, or is not there.

Against a scripted loopback peer whose every push the test chooses: the values a real
NinjaTrader pushes come in an order and at times no test of the reference server
controls this exactly. Everything is bounded in time; nothing outlives its test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import Order
from fks_exec.errors import OrderDenied
from fks_exec.models import ErrorCode, OrderStatus
from fks_exec_ninja import NinjaPlugin

Pushes = list[tuple[str, str]]
Answer = Callable[[list[str]], Pushes]
WAIT = 5.0  # a bound on anything the tests wait for: only reached when the code hangs


def value(key: str, text: str) -> bytes:
    return b"2\x00" + key.encode() + b"\x00" + text.encode() + b"\x00"


def nothing(_command: list[str]) -> Pushes:
    return []


class ScriptedPeer:
    """An ATI peer: greets with ``ATI`` and ``greeting``, records each command's fields
    and pushes what ``answer(fields)`` returns for it."""

    def __init__(self, greeting: Pushes, answer: Answer) -> None:
        self.greeting, self.answer = greeting, answer
        self.commands: list[list[str]] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.handlers: set[asyncio.Task[None]] = set()
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    def push(self, pushes: Pushes) -> None:
        for writer in self.writers:
            writer.write(b"".join(value(k, v) for k, v in pushes))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        self.writers.append(writer)
        writer.write(value("ATI", "True") + b"".join(value(k, v) for k, v in self.greeting))
        buffer = b""
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                parts = (buffer + chunk).split(b"\x00")
                buffer = parts.pop()
                if len(parts) % 2:
                    buffer = parts.pop() + b"\x00" + buffer
                for kind, field in zip(parts[::2], parts[1::2], strict=True):
                    if kind == b"0":
                        fields = field.decode().split(";")
                        self.commands.append(fields)
                        self.push(self.answer(fields))
        writer.close()

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await asyncio.wait_for(asyncio.gather(*self.handlers), WAIT)


@contextlib.asynccontextmanager
async def running(
    greeting: Pushes | None = None, answer: Answer = nothing, **config: Any
) -> AsyncIterator[tuple[ScriptedPeer, NinjaPlugin]]:
    nt = ScriptedPeer([("Orders|Sim101", "")] if greeting is None else greeting, answer)
    port = await nt.start()
    plugin = NinjaPlugin()
    plugin.use_env = False
    settings: dict[str, Any] = {"port": port, "order_timeout_s": 0.3, "connect_timeout_s": 2}
    settings.update(config)
    await plugin.init(settings)
    try:
        yield nt, plugin
    finally:
        await plugin.close()
        await nt.stop()


def working(fields: list[str]) -> Pushes:
    """Answers PLACE with ``Working``; nothing else."""
    return [(f"OrderStatus|{fields[10]}", "Working")] if fields[0] == "PLACE" else []


def places(nt: ScriptedPeer) -> list[list[str]]:
    return [c for c in nt.commands if c[0] == "PLACE"]


# ------------------------------------------------------------------ never placed twice


async def test_an_id_in_the_account_list_without_values_is_unknown_sent_and_not_placed() -> None:
    order = Order.limit("ES 03-27", "buy", 2, "5000")
    listing = f"{'a' * 32}|{order.client_order_id}|{'b' * 32}"
    async with running([("Orders|Sim101", listing)], working) as (nt, plugin):
        result = await plugin.execute_order(order)
        assert result.status is OrderStatus.UNKNOWN and result.error_code is ErrorCode.UNKNOWN
        assert result.sent is True  # NinjaTrader has it: the caller must not place it again
        assert result.order_id == order.client_order_id and places(nt) == []
        assert "not placed again" in (result.error or "")


async def test_an_id_only_inside_another_id_of_the_list_is_placed() -> None:
    order = Order.limit("ES 03-27", "buy", 1, "5000")
    listing = f"x{order.client_order_id}|{order.client_order_id}y"
    async with running([("Orders|Sim101", listing)], working) as (nt, plugin):
        result = await plugin.execute_order(order)
        assert result.status is OrderStatus.ACCEPTED and len(places(nt)) == 1


async def test_an_id_this_process_sent_is_not_placed_again_before_its_values() -> None:
    order = Order.limit("ES 03-27", "buy", 1, "5000")
    async with running(answer=nothing) as (nt, plugin):
        first = await plugin.execute_order(order)  # no answer: unknown after the timeout
        assert first.status is OrderStatus.UNKNOWN and first.error_code is ErrorCode.TIMEOUT
        again = await plugin._execute_order(order)  # the hook: the core's memory passed
        assert again.status is OrderStatus.UNKNOWN and again.sent is True
        assert "not placed again" in (again.error or "")
        assert len(places(nt)) == 1


# ------------------------------------------------------------------ cancel


def cancel_answer(pushes: Pushes) -> Answer:
    """Answers PLACE with ``Working`` and CANCEL with ``pushes``."""

    def answer(fields: list[str]) -> Pushes:
        if fields[0] == "CANCEL":
            return pushes
        return working(fields)

    return answer


async def placed(plugin: NinjaPlugin, order: Order) -> str:
    result = await plugin.execute_order(order)
    assert result.status is OrderStatus.ACCEPTED and result.order_id is not None
    return result.order_id


async def test_a_cancel_without_a_symbol_names_the_order_it_cancelled() -> None:
    order = Order.limit("ES 03-27", "sell", 1, "7000")
    oid = order.client_order_id
    async with running(answer=cancel_answer([(f"OrderStatus|{oid}", "Cancelled")])) as (
        nt,
        plugin,
    ):
        await placed(plugin, order)
        result = await plugin._cancel_order(oid, None)
        assert result.status is OrderStatus.CANCELED
        assert (result.symbol, result.client_order_id, result.order_id) == ("ES 03-27", oid, oid)
        assert ["CANCEL", "", "", "", "0", "", "0", "0", "", "", oid, "", ""] in nt.commands


async def test_a_cancel_of_an_id_this_process_does_not_know() -> None:
    oid = "c" * 32
    async with running(answer=cancel_answer([(f"OrderStatus|{oid}", "Cancelled")])) as (
        _nt,
        plugin,
    ):
        result = await plugin._cancel_order(oid, None)
        assert result.status is OrderStatus.CANCELED
        assert (result.symbol, result.client_order_id) == ("?", None)
        named = await plugin._cancel_order("d" * 32, "NQ 03-27")  # no answer: unknown
        assert named.symbol == "NQ 03-27" and named.status is OrderStatus.UNKNOWN


async def test_a_cancel_of_a_final_order_is_refused_and_nothing_is_sent() -> None:
    order = Order.limit("ES 03-27", "buy", 1, "5000")
    oid = order.client_order_id
    async with running(answer=cancel_answer([(f"OrderStatus|{oid}", "Cancelled")])) as (
        nt,
        plugin,
    ):
        await placed(plugin, order)
        await plugin._cancel_order(oid, None)
        sent = len(nt.commands)
        with pytest.raises(OrderDenied, match="already cancelled"):
            await plugin._cancel_order(oid, None)
        assert len(nt.commands) == sent


async def test_a_cancel_answered_by_a_fill_is_rejected_saying_so() -> None:
    order = Order.limit("ES 03-27", "buy", 1, "5000")
    oid = order.client_order_id
    filled = [
        (f"Filled|{oid}", "1"),
        (f"AvgFillPrice|{oid}", "5000"),
        (f"OrderStatus|{oid}", "Filled"),
    ]
    async with running(answer=cancel_answer(filled)) as (_nt, plugin):
        await placed(plugin, order)
        result = await plugin._cancel_order(oid, None)
        assert result.status is OrderStatus.REJECTED
        assert result.error_code is ErrorCode.INVALID_ORDER
        assert result.error == f"order {oid} is filled"


async def test_a_cancel_nothing_answers_is_unknown_as_an_id_ninjatrader_may_not_know() -> None:
    """NinjaTrader answers a CANCEL only through the order's state (help "Commands and
    Valid Parameters"): no state in order_timeout_s is not a refusal -- the CANCEL was
    written and may yet act -- so the answer is ``unknown``, never ``rejected``."""
    oid = "e" * 32
    async with running(answer=nothing) as (nt, plugin):
        result = await plugin._cancel_order(oid, "ES 03-27")
        assert (result.status, result.sent) == (OrderStatus.UNKNOWN, None)
        assert result.error_code is ErrorCode.TIMEOUT
        error = result.error or ""
        assert f"the CANCEL of order {oid} was written" in error and "may not know" in error
        assert nt.commands[-1][0] == "CANCEL"


async def test_a_cancel_left_pending_is_unknown_after_the_timeout() -> None:
    order = Order.limit("ES 03-27", "buy", 1, "5000")
    oid = order.client_order_id
    pending = [(f"OrderStatus|{oid}", "CancelPending")]
    async with running(answer=cancel_answer(pending)) as (_nt, plugin):
        await placed(plugin, order)
        result = await plugin._cancel_order(oid, None)
        assert result.status is OrderStatus.UNKNOWN and result.error_code is ErrorCode.TIMEOUT
        assert "(order is cancelpending)" in (result.error or "")


async def test_a_cancel_answered_by_a_later_fill_without_its_average_answers_at_once() -> None:
    """A final state answers a cancel even when the last fill's average price has not
    come (NinjaTrader may not push it again): the cancel must not wait its timeout."""
    order = Order.limit("ES 03-27", "buy", 2, "5000")
    oid = order.client_order_id

    def answer(fields: list[str]) -> Pushes:
        if fields[0] == "PLACE":  # a first fill of 1 at once, with its average
            return [
                (f"Filled|{oid}", "1"),
                (f"AvgFillPrice|{oid}", "5000"),
                (f"OrderStatus|{oid}", "PartFilled"),
            ]
        return [(f"Filled|{oid}", "2"), (f"OrderStatus|{oid}", "Filled")]  # no new average

    async with running(answer=answer, order_timeout_s=60.0) as (_nt, plugin):
        first = await plugin.execute_order(order)
        assert first.status is OrderStatus.PARTIALLY_FILLED
        loop = asyncio.get_running_loop()
        delays: list[float] = []
        call_later = loop.call_later

        def recording(delay: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
            delays.append(delay)
            return call_later(delay, *args, **kwargs)

        loop.call_later = recording  # type: ignore[assignment]
        try:
            result = await asyncio.wait_for(plugin._cancel_order(oid, None), WAIT)
        finally:
            loop.call_later = call_later  # type: ignore[method-assign]
        assert result.status is OrderStatus.REJECTED and result.error == f"order {oid} is filled"
        # the only timer besides wait_for's: the answer in the next loop pass
        assert [d for d in delays if d != WAIT] == [0.0]


def part_filled_then(cancel: Pushes) -> Answer:
    """Answers PLACE with a fill of 1 of 3 at 5000, and CANCEL with ``cancel``."""

    def answer(fields: list[str]) -> Pushes:
        oid = fields[10]
        if fields[0] == "PLACE":
            return [
                (f"OrderStatus|{oid}", "PartFilled"),
                (f"Filled|{oid}", "1"),
                (f"AvgFillPrice|{oid}", "5000"),
            ]
        return cancel

    return answer


@pytest.mark.parametrize(
    ("cancel", "later", "status", "filled", "average"),
    [
        # its Cancelled, and a second fill whose average comes within the grace
        (["Cancelled", ("Filled", "2")], [("AvgFillPrice", "5001")], "canceled", 2, "5001"),
        # a second fill whose average never changes (or never comes): not settled
        (["Cancelled", ("Filled", "2")], [], "unknown", 0, None),
        # the average pushed again after it, unchanged: the second fill was at 5000
        (["Cancelled", ("Filled", "2")], [("AvgFillPrice", "5000")], "canceled", 2, "5000"),
        # nothing more filled: the fill before it, at once
        (["Cancelled"], [], "canceled", 1, "5000"),
    ],
    ids=["late-average", "no-average", "same-average", "as-it-was"],
)
async def test_a_cancel_says_what_filled_once_its_fill_values_settle(
    cancel: list[Any], later: Pushes, status: str, filled: int, average: str | None
) -> None:
    order = Order.limit("ES 03-27", "buy", 3, "5000")
    oid = order.client_order_id

    def pushes(items: list[Any]) -> Pushes:
        return [
            (f"OrderStatus|{oid}", item) if isinstance(item, str) else (f"{item[0]}|{oid}", item[1])
            for item in items
        ]

    async with running(answer=part_filled_then(pushes(cancel)), fill_agreement_s=0.2) as (
        nt,
        plugin,
    ):
        first = await plugin.execute_order(order)
        assert first.status is OrderStatus.PARTIALLY_FILLED
        loop = asyncio.get_running_loop()
        handle = loop.call_later(0.05, nt.push, pushes(later))
        try:
            result = await plugin._cancel_order(oid, None)
        finally:
            handle.cancel()
        assert (result.status.value, result.filled_quantity) == (status, filled)
        assert result.average_price == (None if average is None else Decimal(average))
        assert result.client_order_id == oid
        if status == "unknown":
            assert result.error_code is ErrorCode.UNKNOWN and "not settled" in (result.error or "")
        # A later fill with no average after it: lookups answer no fill from the average
        # either until one is pushed (docs/plugins/ninja.md); settled answers mark nothing.
        assert plugin._waiters.average_stale(oid) is (status == "unknown")


def _cancelled_after_one_fill(oid: str) -> Callable[[list[str]], Pushes]:
    """A server that works the order, then answers its cancel: canceled, one filled
    (and no fill price yet)."""

    def answer(fields: list[str]) -> Pushes:
        if fields[0] == "PLACE":
            return [(f"OrderStatus|{oid}", "Working")]
        return [(f"OrderStatus|{oid}", "Cancelled"), (f"Filled|{oid}", "1")]

    return answer


async def test_a_cancel_read_before_its_fill_price_waits_for_it() -> None:
    order = Order.limit("ES 03-27", "buy", 3, "5000")
    oid = order.client_order_id
    answer = _cancelled_after_one_fill(oid)

    async with running(answer=answer, fill_agreement_s=0.3) as (nt, plugin):
        await plugin.execute_order(order)
        handle = asyncio.get_running_loop().call_later(
            0.05, nt.push, [(f"AvgFillPrice|{oid}", "4999.5")]
        )
        try:
            result = await plugin._cancel_order(oid, "ES 03-27")
        finally:
            handle.cancel()
        assert (result.status, result.filled_quantity, result.average_price) == (
            OrderStatus.CANCELED,
            1,
            Decimal("4999.5"),
        )


async def test_a_cancel_whose_fill_never_gets_a_price_is_unknown_and_marks_nothing() -> None:
    # Not a stale average: no average was ever pushed, so there is none a lookup could
    # take for the fill's; the cancel is unknown and lookups keep judging the values.
    order = Order.limit("ES 03-27", "buy", 3, "5000")
    oid = order.client_order_id
    answer = _cancelled_after_one_fill(oid)

    async with running(answer=answer, fill_agreement_s=0.05) as (_nt, plugin):
        await plugin.execute_order(order)
        result = await plugin._cancel_order(oid, "ES 03-27")
        assert result.status is OrderStatus.UNKNOWN and "not settled" in (result.error or "")
        assert not plugin._waiters.average_stale(oid)


# ------------------------------------------------------------------ find


async def test_find_a_sent_order_without_values_or_list_is_unknown_with_its_identity() -> None:
    order = Order.limit("ES 03-27", "sell", 3, "7000")
    async with running([], nothing, require_order_list=False) as (_nt, plugin):
        await plugin.execute_order(order)  # sent, never answered
        found = await plugin._get_order(order.client_order_id)
        assert found is not None and found.status is OrderStatus.UNKNOWN
        assert (found.symbol, found.side, found.quantity) == (
            "ES 03-27",
            order.side,
            Decimal(3),
        )
        assert found.error == (
            f"order {order.client_order_id} is sent but NinjaTrader has pushed none of its "
            "values since connecting"
        )


async def test_find_a_listed_order_without_values_waits_no_longer_than_the_grace() -> None:
    oid = "f" * 32
    async with running([("Orders|Sim101", oid)], order_list_wait_s=0.05) as (_nt, plugin):
        ati = plugin.ati
        await asyncio.sleep(0.05 - ati.up_for + 0.02)  # the grace after connecting is over
        assert ati.up_for > 0.05
        waits: list[float] = []
        key_wait = plugin._waiters.key

        async def spy(keys: list[str], ready: Callable[[], bool], timeout_s: float) -> bool:
            waits.append(timeout_s)
            return await key_wait(keys, ready, timeout_s)

        plugin._waiters.key = spy  # type: ignore[method-assign]
        found = await plugin._get_order(oid)
        assert waits == []  # answered from what is there: no wait started
        assert found is not None and found.status is OrderStatus.UNKNOWN
        assert (found.symbol, found.side, found.quantity) == ("?", None, None)
        assert found.error == (
            f"order {oid} is listed but NinjaTrader has pushed none of its values since connecting"
        )


async def test_find_a_listed_order_waits_for_values_pushed_a_moment_after_the_list() -> None:
    oid = "9" * 32
    async with running([("Orders|Sim101", oid)], order_list_wait_s=0.8) as (nt, plugin):
        waits: list[float] = []
        key_wait = plugin._waiters.key

        async def spy(keys: list[str], ready: Callable[[], bool], timeout_s: float) -> bool:
            waits.append(timeout_s)
            nt.push([(f"OrderStatus|{oid}", "Working")])  # the re-push, while it waits
            return await key_wait(keys, ready, timeout_s)

        plugin._waiters.key = spy  # type: ignore[method-assign]
        found = await plugin._get_order(oid)
        assert found is not None and found.status is OrderStatus.ACCEPTED
        assert len(waits) == 1 and 0 < waits[0] <= 0.8  # what is left of the grace


async def test_find_uses_the_account_of_the_hints() -> None:
    oid = "5" * 32
    greeting = [("Orders|Sim101", ""), ("Orders|Sim102", oid)]
    async with running(greeting, order_list_wait_s=0) as (_nt, plugin):
        found = await plugin._find_order("x", {"order_id": oid, "account": "Sim102"})
        assert found is not None and found.status is OrderStatus.UNKNOWN
        assert "is listed" in (found.error or "")
        assert await plugin._find_order("x", {"order_id": oid}) is None  # Sim101's list


async def test_find_an_order_the_fresh_list_does_not_have_is_none_at_once() -> None:
    async with running(order_list_wait_s=WAIT) as (_nt, plugin):
        waits: list[float] = []
        key_wait = plugin._waiters.key

        async def spy(keys: list[str], ready: Callable[[], bool], timeout_s: float) -> bool:
            waits.append(timeout_s)
            return await key_wait(keys, ready, timeout_s)

        plugin._waiters.key = spy  # type: ignore[method-assign]
        assert await plugin._get_order("7" * 32) is None
        assert waits == []  # not listed: nothing to wait for, even within the grace
        assert await plugin._find_order("x", {"order_id": "8" * 32, "account": "Sim101"}) is None


# ------------------------------------------------------------------ params


async def test_an_order_with_params_is_refused_and_no_place_is_sent() -> None:
    # An ATI PLACE has only the order's fields: params would be dropped without a word
    # (outside review, 2026-12-04), so they are refused before sending.
    async with running() as (nt, plugin):
        order = Order.limit("ES 03-27", "buy", 1, "5000", params={"tif": "GTD"})
        result = await plugin.execute_order(order)
        assert result.status is OrderStatus.REJECTED and result.sent is False, result
        assert result.error_code is ErrorCode.NOT_SUPPORTED
        assert "plugin 'ninja' cannot pass params 'tif'" in (result.error or "")
        assert not [c for c in nt.commands if c and c[0] == "PLACE"]
