"""Every ```python block in the user docs runs, so the examples cannot drift.

Each block runs alone, in a fresh namespace, so a reader can copy any one of them as
it stands (its imports and setup included); a block opened with ```python notest is
shown to readers but not run (it needs a real broker).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest

DOCS = Path(__file__).parents[1] / "docs"
README = Path(__file__).parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
# docs/reference/ holds the generated API reference (tests/test_api_docs.py builds it).
PAGES = [README, *sorted(p for p in DOCS.rglob("*.md") if p.parent != DOCS / "reference")]


# Reference pages that show no Python; every other page must run at least one block.
PAGES_WITHOUT_EXAMPLES = {"performance.md", "reliability.md"}
PAGES_WITHOUT_EXAMPLES |= {"ninja-protocol.md", "architecture.md"}


def test_there_are_pages_to_run() -> None:
    """The parametrized test below really runs pages (README and docs/ were found)."""
    runnable = [p for p in PAGES if p.name not in PAGES_WITHOUT_EXAMPLES]
    assert README in runnable and len(runnable) >= 5, runnable


@pytest.fixture
def _unhurried_hypothesis() -> Iterator[None]:
    """The pages' property-test examples run under the settings they show, but without
    hypothesis' wall-clock checks (deadline, too_slow), which a loaded 2-core CI machine
    trips while generating pydantic models; the previous default comes back after."""
    previous = hypothesis.settings.default
    hypothesis.settings.register_profile(
        "fks-docs-examples",
        parent=previous,
        deadline=None,
        suppress_health_check=[hypothesis.HealthCheck.too_slow],
    )
    hypothesis.settings.load_profile("fks-docs-examples")
    yield
    hypothesis.settings.register_profile("fks-docs-examples-before", parent=previous)
    hypothesis.settings.load_profile("fks-docs-examples-before")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
@pytest.mark.usefixtures("_unhurried_hypothesis")
def test_examples_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of a page runs; a page must have one unless listed above."""
    for key in list(os.environ):
        if key.startswith("FKS_EXEC_"):
            monkeypatch.delenv(key)
    blocks = BLOCK.findall(page.read_text())
    if page.name in PAGES_WITHOUT_EXAMPLES:
        assert not blocks, f"{page.name} has examples now: remove it from PAGES_WITHOUT_EXAMPLES"
        return
    assert blocks, f"{page.name} has no runnable ```python block (add one, or list the page)"
    if page.name == "writing-a-plugin.md":
        pytest.skip("built and installed for real by test_writing_a_plugin.py")
    for number, code in enumerate(blocks, 1):
        namespace: dict[str, object] = {"__name__": f"docs_{page.stem}_{number}"}
        try:
            exec(compile(code, f"{page.name}[block {number}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{page.name} block {number} failed: {exc!r}\n{code}") from exc
        defined = set(namespace) - {"__name__", "__builtins__"}
        assert defined, f"{page.name} block {number} defined nothing"


CONFIG_MODELS = {
    "mock": "fks_exec.mock:MockConfig",
    "ccxt": "fks_exec_ccxt:CcxtConfig",
    "mt5": "fks_exec_mt5:Mt5Config",
    "ninja": "fks_exec_ninja:NinjaConfig",
}


@pytest.mark.parametrize("plugin", sorted(CONFIG_MODELS))
def test_configuration_page_lists_every_field(plugin: str) -> None:
    import importlib

    module, _, name = CONFIG_MODELS[plugin].partition(":")
    try:
        model = getattr(importlib.import_module(module), name)
    except ImportError:
        pytest.skip(f"{module} is not installed")
    page = (DOCS / "configuration.md").read_text()
    plugin_page = DOCS / "plugins" / f"{plugin}.md"
    from fks_exec.config import PluginConfig

    common = set(PluginConfig.model_fields)
    for field in common:  # settings every plugin has, documented once
        assert f"`FKS_EXEC_<PLUGIN>_{field.upper()}`" in page, field
    for field in set(model.model_fields) - common:
        variable = f"`FKS_EXEC_{plugin.upper()}_{field.upper()}`"
        assert variable in page, variable
        if plugin_page.exists():
            assert variable in plugin_page.read_text(), (plugin_page.name, variable)
