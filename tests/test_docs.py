"""Every ```python block in the user docs runs, so the examples cannot drift.

Blocks of one page run in order in one namespace; a block opened with
```python notest is shown to readers but not run (it needs a real broker).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"
README = Path(__file__).parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PAGES = [README, *sorted(DOCS.rglob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("FKS_EXEC_"):
            monkeypatch.delenv(key)
    blocks = BLOCK.findall(page.read_text())
    if page.name == "writing-a-plugin.md":
        pytest.skip("built and installed for real by test_writing_a_plugin.py")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{page.name}[block {number}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{page.name} block {number} failed: {exc!r}\n{code}") from exc


def test_configuration_page_lists_every_mock_field() -> None:
    from fks_exec.mock import MockConfig

    page = (DOCS / "configuration.md").read_text()
    for name in MockConfig.model_fields:
        assert f"`FKS_EXEC_MOCK_{name.upper()}`" in page, name
