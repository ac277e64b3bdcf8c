"""The PostgreSQL example of docs/journal.md runs against the test server (test_docs
cannot run it: it needs a server, so the page marks it ``notest``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[2] / "docs" / "journal.md"
NOTEST = re.compile(r"^```python notest\n(.*?)^```", re.S | re.M)


def test_the_sharing_example_runs(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b for b in NOTEST.findall(PAGE.read_text()) if "PostgresJournal" in b]
    assert len(blocks) == 1, "docs/journal.md lost its PostgreSQL example"
    monkeypatch.setenv("FKS_EXEC_JOURNAL", pg_url)
    namespace: dict[str, object] = {"__name__": "docs_journal_postgres"}
    exec(compile(blocks[0], "journal.md[postgres]", "exec"), namespace)
    assert "main" in namespace
