"""Every exchange class in ccxt, built offline: the derived rules exist and agree (issue 16).

The rules must hold for exchanges nobody tested by hand, so each class in
``ccxt.exchanges`` is built with no network, given one minimal market per market kind,
and checked: capabilities match the per-market rules, every refusal names the venue,
stop orders carry a direction wherever ccxt says the venue needs one, client ids fit
the venue's rule, and docs/plugins/ccxt.md shows exactly this table.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from exchange_table import BEGIN, END, ExchangeRow, exchange_rows, markdown
from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec import Order
from fks_exec.plugin import Capability
from fks_exec_ccxt.client_ids import venue_client_id
from fks_exec_ccxt.mapping import Denial, build_request
from fks_exec_ccxt.rules import features_of
from fks_exec_ccxt.venues import VENUES, ClientIdRule, venue

DOCS = Path(__file__).resolve().parents[3] / "docs" / "plugins" / "ccxt.md"


@pytest.fixture(scope="module")
def rows() -> list[ExchangeRow]:
    return exchange_rows()


def test_every_ccxt_exchange_gets_rules(rows: list[ExchangeRow]) -> None:
    import ccxt

    assert [r.exchange_id for r in rows] == list(ccxt.exchanges)
    assert sum(1 for r in rows if r.markets) >= 0.9 * len(rows)


def test_capabilities_agree_with_the_market_rules(rows: list[ExchangeRow]) -> None:
    for row in rows:
        markets = list(row.markets.values())
        stops = any(m.stop.param is not None for m in markets)
        assert (Capability.STOP_ORDERS in row.capabilities) == stops, row.exchange_id
        brackets = any(m.bracket_refused is None for m in markets)
        assert (Capability.BRACKET_ORDERS in row.capabilities) == brackets, row.exchange_id
        reduce = any(m.reduce_only_refused is None for m in markets)
        assert (Capability.REDUCE_ONLY in row.capabilities) == reduce, row.exchange_id
        if Capability.CLOSE_POSITION in row.capabilities:
            assert Capability.REDUCE_ONLY in row.capabilities and row.exchange.has["fetchPositions"]


def test_stops_carry_a_direction_wherever_ccxt_says_one_is_needed(rows: list[ExchangeRow]) -> None:
    for row in rows:
        for symbol, rules in row.markets.items():
            create = (
                features_of(row.exchange, row.exchange.markets[symbol]).get("createOrder") or {}
            )
            needs = create.get("triggerDirection") and rules.stop.param == "triggerPrice"
            justified = venue(row.exchange_id).trigger_needs_no_direction
            if needs and not justified:
                assert rules.stop.direction is not None, (row.exchange_id, symbol)
            if rules.stop.param is None:
                assert row.exchange_id in (rules.stop.refused or ""), (row.exchange_id, symbol)


def test_orders_on_every_market_are_built_or_refused_with_the_venue_named(
    rows: list[ExchangeRow],
) -> None:
    for row in rows:
        for symbol, rules in row.markets.items():
            limit = Order.limit(symbol, "buy", "0.0105", "100.04", time_in_force="ioc")
            stop = Order.stop(symbol, "sell", "0.01", "99.96")
            for order in (limit, stop):
                request = build_request(row.exchange, rules, order, Decimal(100))
                if isinstance(request, Denial):
                    assert row.exchange_id in request.message or "spot" in request.message
                    continue
                assert Decimal(str(request.amount)) <= order.quantity  # never rounded up
                assert request.params[rules.client_id.param] == request.venue_client_id
                if order is stop:
                    assert request.params[rules.stop.param] == 100.0 or rules.price_tick is None
                    if rules.stop.direction is not None:
                        key, _rising, falling = rules.stop.direction
                        assert request.params[key] == falling  # a sell stop fires on a fall
            refused = build_request(row.exchange, rules, limit, Decimal(100))
            if "IOC" not in rules.time_in_force:
                assert isinstance(refused, Denial) and "IOC" in refused.message


_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,36}", fullmatch=True)
_RULES = [*{v.client_id for v in VENUES.values()}, *(v.contract_client_id for v in VENUES.values())]


@pytest.mark.parametrize("rule", [r for r in _RULES if r is not None], ids=lambda r: r.source[:30])
@given(cid=_IDS)
@settings(max_examples=60, deadline=None)
def test_venue_client_ids_fit_the_venue_and_are_deterministic(rule: ClientIdRule, cid: str) -> None:
    sent = venue_client_id(cid, rule)
    assert sent == venue_client_id(cid, rule)
    if rule.form == "hex128":
        assert re.fullmatch("0x[0-9a-f]{32}", sent)
    elif rule.form == "int63":
        assert 1 <= int(sent) < 2**63
    else:
        assert sent.startswith(rule.prefix) and len(sent) <= rule.max_length
        assert re.fullmatch(f"[{rule.charset}]+", sent.removeprefix(rule.prefix))


@given(a=_IDS, b=_IDS)
@settings(max_examples=200, deadline=None)
def test_distinct_ids_stay_distinct_on_gate(a: str, b: str) -> None:
    rule = venue("gate").client_id
    if a != b:
        assert venue_client_id(a, rule) != venue_client_id(b, rule)


def test_docs_table_is_current(rows: list[ExchangeRow]) -> None:
    table = markdown(rows)
    page = DOCS.read_text()
    if os.environ.get("FKS_EXEC_WRITE_DOCS") == "1":
        head, _, rest = page.partition(BEGIN)
        _, _, tail = rest.partition(END)
        DOCS.write_text(head + table + tail)
        page = DOCS.read_text()
    assert table in page, "docs/plugins/ccxt.md is stale: run with FKS_EXEC_WRITE_DOCS=1"
