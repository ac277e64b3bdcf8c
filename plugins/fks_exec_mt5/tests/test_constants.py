"""The plugin's constants, the fake's constants, functions and fields, against the real
package (tests/data, extracted from the win_amd64 wheel by tools/extract_constants.py)."""

from __future__ import annotations

import json
from pathlib import Path

from fks_exec_mt5 import constants
from fks_exec_mt5.testing.reference import FakeMetaTrader5

TABLE = json.loads((Path(__file__).parent / "data" / "metatrader5-5.0.6231.json").read_text())
REAL = TABLE["constants"]
IDENTIFIERS = set(TABLE["core_identifiers"])
NOT_IN_PACKAGE = {
    "SYMBOL_FILLING_FOK",
    "SYMBOL_FILLING_IOC",
    "SYMBOL_FILLING_BOC",
    "SYMBOL_EXPIRATION_GTC",
    "SYMBOL_EXPIRATION_DAY",
    "SYMBOL_EXPIRATION_SPECIFIED",
    "SYMBOL_EXPIRATION_SPECIFIED_DAY",
    *(
        f"SYMBOL_ORDER_{n}"
        for n in ("MARKET", "LIMIT", "STOP", "STOP_LIMIT", "SL", "TP", "CLOSEBY")
    ),
}


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
        value = getattr(constants, name)
        if name.isupper() and isinstance(value, int) and name not in NOT_IN_PACKAGE:
            assert getattr(fake, name) == value, name


def test_the_plugin_uses_only_real_functions() -> None:
    from fks_exec_mt5.bridge.protocol import FUNCTIONS

    assert FUNCTIONS <= IDENTIFIERS, sorted(FUNCTIONS - IDENTIFIERS)
