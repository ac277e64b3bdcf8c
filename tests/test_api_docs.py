"""The site (docs/ plus the API reference generated from the docstrings) builds
without a single warning, and the reference documents what users call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocstrings", reason="mkdocs and mkdocstrings come with the test extra")
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = build.stdout + build.stderr
    assert build.returncode == 0, log
    assert "WARNING" not in log, log
    return out


def test_every_page_is_in_the_site(site: Path) -> None:
    docs = ROOT / "docs"
    for page in docs.rglob("*.md"):
        relative = page.relative_to(docs).with_suffix("")
        built = site / relative / "index.html" if relative.name != "index" else None
        if built is None:
            built = site / relative.parent / "index.html"
        assert built.is_file(), f"{page} was not built"


@pytest.mark.parametrize(
    "anchor",
    [
        "fks_exec.executor.Executor.execute",
        "fks_exec.executor.Executor.cancel",
        "fks_exec.executor.Executor.get_order",
        "fks_exec.executor.Executor.history",
        "fks_exec.executor.Executor.stats",
        "fks_exec.executor.Executor.close_position",
        "fks_exec.sync.SyncExecutor",
    ],
)
def test_the_reference_documents_the_executor(site: Path, anchor: str) -> None:
    html = (site / "reference" / "executor" / "index.html").read_text()
    assert f'id="{anchor}"' in html


def test_the_reference_documents_results_and_errors(site: Path) -> None:
    models = (site / "reference" / "models" / "index.html").read_text()
    assert 'id="fks_exec.models.ExecutionResult.sent"' in models
    errors = (site / "reference" / "errors" / "index.html").read_text()
    for name in ("OrderDenied", "OutcomeUnknown", "BrokerUnavailable"):
        assert f'id="fks_exec.errors.{name}"' in errors


@pytest.mark.parametrize("method", ["execute_order", "cancel_order", "fetch_data", "get_order"])
def test_the_reference_shows_the_plugin_methods_its_mixins_define(site: Path, method: str) -> None:
    html = (site / "reference" / "plugins" / "index.html").read_text()
    assert f'id="fks_exec.plugin.ExecutionPlugin.{method}"' in html
