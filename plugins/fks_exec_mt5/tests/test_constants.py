"""The plugin's constants, the fake's constants, functions and fields, against the real
package (tests/data, extracted from the win_amd64 wheel by tools/extract_constants.py)."""

from __future__ import annotations

import json
from pathlib import Path

from fks_exec_mt5 import constants
from fks_exec_mt5.testing import FakeMetaTrader5, records

TABLE = json.loads((Path(__file__).parent / "data" / "metatrader5-5.0.6231.json").read_text())
REAL = TABLE["constants"]
IDENTIFIERS = set(TABLE["core_identifiers"])
NOT_IN_PACKAGE = {"SYMBOL_FILLING_FOK", "SYMBOL_FILLING_IOC", "SYMBOL_FILLING_BOC"}


def test_table_is_the_version_the_constants_claim() -> None:
    assert TABLE["version"] == constants.PACKAGE_VERSION


def test_every_constant_has_the_real_value() -> None:
    ours = {n: v for n, v in vars(constants).items() if n.isupper() and isinstance(v, int)}
    assert set(ours) - set(REAL) == NOT_IN_PACKAGE
    for name, value in ours.items():
        if name not in NOT_IN_PACKAGE:
            assert REAL[name] == value, name


def test_the_fake_module_carries_the_real_constants() -> None:
    fake = FakeMetaTrader5()
    for name in vars(constants):
        if name.isupper() and isinstance(getattr(constants, name), int):
            assert getattr(fake, name) == getattr(constants, name)


def test_the_fake_has_only_real_functions_and_every_one_the_plugin_uses() -> None:
    fake = FakeMetaTrader5()
    public = {n for n in dir(fake) if not n.startswith("_") and callable(getattr(fake, n))}
    controls = {"set_price", "set_session", "requote_next", "fail_next_ipc", "break_connection"}
    assert public - controls <= IDENTIFIERS, sorted(public - controls - IDENTIFIERS)
    used = {
        "initialize",
        "shutdown",
        "last_error",
        "account_info",
        "terminal_info",
        "symbol_info",
        "symbol_info_tick",
        "symbol_select",
        "order_send",
        "order_check",
        "orders_get",
        "positions_get",
        "history_orders_get",
        "history_deals_get",
        "version",
    }
    assert used <= public


def test_named_tuples_use_the_real_field_names() -> None:
    for name in records.__all__:
        for field in getattr(records, name)._fields:
            assert field in IDENTIFIERS, (name, field)
