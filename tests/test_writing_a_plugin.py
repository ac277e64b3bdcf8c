"""The third-party plugin of docs/writing-a-plugin.md, installed for real and routed to.

The files are taken from the doc itself, built into a wheel by pip, installed into a
scratch directory and used from fresh interpreters: discovery through real
distribution metadata, not a monkeypatched entry-point list.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).parents[1] / "docs" / "writing-a-plugin.md"
FILE_BLOCK = re.compile(r"<!-- file: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)```", re.S)


@pytest.fixture(scope="module")
def tally_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tally")
    blocks = list(FILE_BLOCK.finditer(DOC.read_text()))
    assert len(blocks) == 3, "the doc should hold pyproject.toml, the module and the test"
    for block in blocks:
        target = root / block["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block["body"])
    site = root / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(site),
            str(root / "fks-exec-tally"),
        ],
        check=True,
    )
    return site


def run_python(site: Path, code: str, *args: str, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_installed_distribution_is_discovered_without_import(tally_site: Path) -> None:
    out = run_python(
        tally_site,
        "import sys\n"
        "from fks_exec import PluginRegistry\n"
        "infos = {i.name: i for i in PluginRegistry().discover()}\n"
        "tally = infos['tally']\n"
        "print(tally.distribution, tally.version, tally.target)\n"
        "assert 'fks_exec_tally' not in sys.modules\n",
    )
    assert out.split() == ["fks-exec-tally", "1.0.0", "fks_exec_tally:TallyPlugin"]


def test_orders_are_routed_to_it_by_env_and_cli(tally_site: Path) -> None:
    out = run_python(
        tally_site,
        "import os, sys\n"
        "os.environ['FKS_EXEC_ROUTES'] = 'XYZ=tally'\n"
        "os.environ['FKS_EXEC_TALLY_PRICE'] = '99.25'\n"
        "os.environ['FKS_EXEC_TALLY_TOKEN'] = 'tok-secret-77'\n"
        "from fks_exec import Order, SyncExecutor\n"
        "with SyncExecutor.from_env() as ex:\n"
        "    r = ex.execute(Order.market('XYZ', 'buy', 2))\n"
        "    print(r.plugin, r.status.value, r.average_price)\n"
        "from fks_exec.cli import main\n"
        "sys.exit(main(['plugins']))\n",
    )
    assert "tally filled 99.25" in out
    assert re.search(r"tally\s+fks-exec-tally\s+1\.0\.0\s+ok", out)
    assert "tok-secret-77" not in out


def test_the_docs_own_test_passes(tally_site: Path) -> None:
    tests = tally_site.parent / "fks-exec-tally" / "tests"
    out = run_python(
        tally_site,
        "",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(tests),
        str(tests),
        cwd=tests,
    )
    assert "1 passed" in out
