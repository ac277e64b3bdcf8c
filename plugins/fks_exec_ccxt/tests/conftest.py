"""Fixtures: ccxt's offline fixture files; the helpers beside the tests on the path."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "ccxt"

# The helpers beside the tests (static_harness, exchange_table) import by their names:
# under --import-mode=importlib a tests package would clash with the repository's tests/.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def fixture_json(kind: str, exchange: str) -> Any:
    """One of ccxt's offline fixture files from ../shared/fixtures/ccxt."""
    path = FIXTURES / kind / f"{exchange}.json"
    if not path.exists():
        pytest.skip(f"ccxt fixtures not found at {FIXTURES} (shared/ sits beside the repo)")
    return json.loads(path.read_text())


@pytest.fixture
def ccxt_fixture() -> Any:
    """Loader of ccxt's fixture files: ``ccxt_fixture("markets", "binance")``."""
    return fixture_json
