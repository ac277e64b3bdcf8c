"""``Order.params`` a plugin cannot pass on are refused before sending, not dropped
(outside mt5 review, 2026-12-04: ``params={"type_time": 2, "expiration": ...}`` made a
GTC order that never expired, ``{"deviation": 2}`` slipped by the config's 10 points,
without a word). A plugin says which keys it passes on (``order_params``); None leaves
``params`` to the plugin (ccxt reads them and refuses what it cannot honour)."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from fks_exec import ErrorCode, Order, OrderStatus


def _plugin(make_plugin: Any, takes: frozenset[str] | None) -> Any:
    base = make_plugin("p").__class__

    class _Taking(base):  # type: ignore[misc,valid-type]
        order_params: ClassVar[frozenset[str] | None] = takes

    plugin = _Taking("p")
    asyncio.run(plugin.init({}))
    return plugin


@pytest.mark.parametrize(
    ("takes", "params", "refused"),
    [
        (frozenset(), {}, None),
        (frozenset(), {"deviation": 2}, "'deviation'"),
        (frozenset({"deviation"}), {"deviation": 2}, None),
        (
            frozenset({"deviation"}),
            {"expiration": 1, "type_time": 2, "deviation": 2},
            "'expiration', 'type_time'",
        ),
        (None, {"anything": 1}, None),
    ],
)
def test_params_a_plugin_cannot_pass_on_are_refused_before_sending(
    make_plugin: Any, takes: frozenset[str] | None, params: dict[str, Any], refused: str | None
) -> None:
    plugin = _plugin(make_plugin, takes)
    for order in (
        Order.market("X", "buy", 1, params=params),
        Order.limit("X", "buy", 1, 100, params=params),
    ):
        result = asyncio.run(plugin.execute_order(order))
        if refused is None:
            assert result.status is not OrderStatus.REJECTED, result
            continue
        assert result.status is OrderStatus.REJECTED and result.sent is False, result
        assert result.error_code is ErrorCode.NOT_SUPPORTED
        assert f"cannot pass params {refused} to its broker" in (result.error or "")
        assert "nothing was sent" in (result.error or "")
        takes_text = ", ".join(sorted(takes or ())) or "none"
        assert f"(it takes: {takes_text})" in (result.error or "")
    sent = 0 if refused else 2
    assert len(plugin.sent) == sent
