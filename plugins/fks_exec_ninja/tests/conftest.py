"""Every async test of the ninja plugin is bounded in time.

A test that waits forever (a mutant that never answers, a bug that loses a wake-up)
fails after ``TEST_BOUND_S`` with a ``TimeoutError`` instead of hanging the run: the
slowest test here takes under 5 s, so the bound only ever ends a hang.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

TEST_BOUND_S = 15.0


def _bounded(test: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(test)
    async def bounded(*args: Any, **kwargs: Any) -> Any:
        return await asyncio.wait_for(test(*args, **kwargs), TEST_BOUND_S)

    return bounded


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Wrap each coroutine test of this directory (hypothesis tests bound each example
    themselves: their waits carry their own timeouts)."""
    for item in items:
        test = getattr(item, "obj", None)
        if inspect.iscoroutinefunction(test) and __file__.rpartition("/")[0] in str(item.path):
            item.obj = _bounded(test)  # type: ignore[attr-defined]
