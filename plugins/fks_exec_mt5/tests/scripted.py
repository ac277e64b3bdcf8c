"""A scripted terminal for the session tests: the reference fake with the next answers
of chosen functions replaced, the way a terminal that loses a symbol or a tick between
two calls behaves, and what it was sent."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from fks_exec_mt5 import constants as c
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC

IPC_DOWN = c.RES_E_INTERNAL_FAIL_CONNECT  # the link is down: nothing was sent


class Scripted:
    """The fake, with the next answers of chosen functions replaced in turn."""

    def __init__(self, terminal: FakeMetaTrader5) -> None:
        self.terminal = terminal
        self.next: dict[str, deque[Callable[..., Any]]] = {}
        self.sent: list[dict[str, Any]] = []

    def then(self, function: str, answer: Callable[..., Any]) -> Scripted:
        """The next call of ``function`` gets ``answer(real, *args, **kwargs)``."""
        self.next.setdefault(function, deque()).append(answer)
        return self

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.terminal, name)
        answers = self.next.get(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if name == "order_send":
                self.sent.append(args[0])
            if answers:
                return answers.popleft()(real, *args, **kwargs)
            return real(*args, **kwargs)

        return call


def nothing(real: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    return None


def changed(**fields: Any) -> Callable[..., Any]:
    """The real answer with ``fields`` replaced."""

    def answer(real: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        value = real(*args, **kwargs)
        return Record({**value._asdict(), **fields})

    return answer


class Record:
    """A result-like record with the given fields (and ``_asdict``)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__.update(fields)
        self._fields = fields

    def _asdict(self) -> dict[str, Any]:
        return dict(self._fields)


def requote(real: Callable[..., Any], request: dict[str, Any]) -> Any:
    """A requote answer (10004), the server having done nothing."""
    return Record(
        {
            "retcode": c.TRADE_RETCODE_REQUOTE,
            "deal": 0,
            "order": 0,
            "volume": 0.0,
            "price": 0.0,
            "bid": 1.1,
            "ask": 1.1002,
            "comment": "Requote",
            "request_id": 1,
            "retcode_external": 0,
        }
    )


def opened(terminal: FakeMetaTrader5, kind: int, volume: float) -> None:
    """A ticket of this program, sent straight to the fake (the plugin never opens a hedge)."""
    tick = terminal.symbol_info_tick("EURUSD")
    sent = terminal.order_send(
        {
            "action": c.TRADE_ACTION_DEAL,
            "symbol": "EURUSD",
            "volume": volume,
            "type": kind,
            "price": tick.ask if kind == c.ORDER_TYPE_BUY else tick.bid,
            "deviation": 10,
            "magic": MAGIC,
            "type_filling": c.ORDER_FILLING_FOK,
            "type_time": c.ORDER_TIME_GTC,
        }
    )
    assert sent.retcode == c.TRADE_RETCODE_DONE, sent


def hedged_pair(terminal: FakeMetaTrader5) -> None:
    """A long and a short ticket of this program (as two pending orders that filled
    leave them): sent straight to the fake, which opens a ticket per deal."""
    for kind in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
        opened(terminal, kind, 0.1)


class Recording:
    """The fake, recording every function called on it (name and keyword arguments);
    ``answers`` replaces chosen functions' answers (``answers[name](real, *args, **kw)``)."""

    def __init__(self, fake: FakeMetaTrader5, **answers: Any) -> None:
        self.fake = fake
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answers = answers

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.fake, name)
        if not callable(value) or name.isupper():
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, dict(kwargs)))
            if name in self.answers:
                return self.answers[name](value, *args, **kwargs)
            return value(*args, **kwargs)

        return call

    def count(self, name: str) -> int:
        return sum(1 for called, _ in self.calls if called == name)

    def kwargs_of(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for called, kwargs in self.calls if called == name]
