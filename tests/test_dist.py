"""The four distributions build, and their wheels install in a fresh venv and trade.

Offline apart from PyPI: the wheels are built with the build tools already in this
venv (``python -m build --no-isolation``), and the dependencies are installed with
``--no-index`` from a wheel cache (``build/wheelhouse``) holding exactly the versions
installed here; the cache is filled from PyPI once, when something is missing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
PROJECTS = {
    "fks-exec": ROOT,
    "fks-exec-ccxt": ROOT / "plugins" / "fks_exec_ccxt",
    "fks-exec-mt5": ROOT / "plugins" / "fks_exec_mt5",
    "fks-exec-ninja": ROOT / "plugins" / "fks_exec_ninja",
}
WHEELHOUSE = ROOT / "build" / "wheelhouse"
STEP_TIMEOUT_S = 300


def _run(*command: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


def _installed_dependencies(names: list[str]) -> dict[str, str]:
    """name -> installed version of every dependency (transitively) of ``names``."""
    seen: dict[str, str] = {}
    todo = list(names)
    ours = {canonicalize_name(n) for n in PROJECTS}
    while todo:
        dist = distribution(todo.pop())
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            name = canonicalize_name(requirement.name)
            if name in ours or name in seen:
                continue
            try:
                seen[name] = distribution(name).version
            except PackageNotFoundError:  # pragma: no cover - a broken venv
                pytest.fail(f"{name} (needed by {dist.metadata['Name']}) is not installed here")
            todo.append(name)
    return seen


def _fill_wheelhouse(pins: dict[str, str]) -> None:
    have = (
        {
            canonicalize_name(p.name.split("-")[0]) + "==" + p.name.split("-")[1]
            for p in WHEELHOUSE.glob("*.whl")
        }
        if WHEELHOUSE.exists()
        else set()
    )
    missing = [f"{n}=={v}" for n, v in sorted(pins.items()) if f"{n}=={v}" not in have]
    if not missing:
        return
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    download = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--timeout",
            "30",
            "--dest",
            str(WHEELHOUSE),
            *missing,
        ],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
        check=False,
    )
    if download.returncode != 0:
        pytest.skip(f"cannot fill the wheel cache from PyPI: {download.stderr[-500:]}")


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build", reason="the build frontend comes with the test extra")
    out = tmp_path_factory.mktemp("dist")
    for project in PROJECTS.values():
        _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, project)
    return out


def test_each_distribution_has_a_wheel_and_an_sdist_with_its_license(dist_dir: Path) -> None:
    for name in PROJECTS:
        stem = name.replace("-", "_")
        (wheel,) = dist_dir.glob(f"{stem}-*.whl")
        (sdist,) = dist_dir.glob(f"{stem}-*.tar.gz")
        with zipfile.ZipFile(wheel) as files:
            assert any(n.endswith(".dist-info/licenses/LICENSE") for n in files.namelist())
            metadata = next(n for n in files.namelist() if n.endswith(".dist-info/METADATA"))
            text = files.read(metadata).decode()
        assert "License-Expression: MIT" in text
        assert "Project-URL: Repository, https://" in text
        body = text.partition("\n\n")[2]
        relative = re.findall(r"\]\((?!https?://|#)[^)]+\)", body)
        assert not relative, f"{name}: links that break on an index page: {relative}"
        with tarfile.open(sdist) as archive:
            assert any(m.name.endswith("/LICENSE") for m in archive.getmembers())
    with tarfile.open(next(dist_dir.glob("fks_exec-*.tar.gz"))) as archive:
        # the plugins are distributions of their own
        assert not any(re.match(r"[^/]+/plugins/", m.name) for m in archive.getmembers())


def test_the_wheels_install_in_a_fresh_venv_and_place_an_order(
    dist_dir: Path, tmp_path: Path
) -> None:
    _fill_wheelhouse(_installed_dependencies(list(PROJECTS)))
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-index",
        "--disable-pip-version-check",
        "--find-links",
        dist_dir,
        "--find-links",
        WHEELHOUSE,
        *PROJECTS,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    env |= {"FKS_EXEC_JOURNAL": "memory", "PYTHONPATH": ""}
    where = _run(python, "-c", "import fks_exec; print(fks_exec.__file__)", env=env, cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), "imported the checkout, not the wheel"
    order = _run(
        venv / "bin" / "fks-exec",
        "order",
        "buy",
        "BTC/USDT",
        "0.01",
        "--plugin",
        "mock",
        "--price",
        "65000",
        env=env,
        cwd=tmp_path,
    )
    assert order.stdout.startswith("filled: buy 0.01 BTC/USDT on mock"), order.stdout
    listed = _run(venv / "bin" / "fks-exec", "plugins", "--json", env=env, cwd=tmp_path)
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert {n: r["distribution"] for n, r in rows.items()} == {
        "mock": "fks-exec",
        "ccxt": "fks-exec-ccxt",
        "mt5": "fks-exec-mt5",
        "ninja": "fks-exec-ninja",
    }
    assert all(r["state"] == "ok" for r in rows.values()), rows


def test_the_python_classifiers_are_the_versions_ci_runs() -> None:
    """pyproject.toml claims exactly the versions `make pythons` (with make test) runs."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    claimed = set(re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject))
    makefile = (ROOT / "Makefile").read_text()
    ran = set(re.search(r"^PYTHON_VERSIONS := (.+)$", makefile, re.M).group(1).split())  # type: ignore[union-attr]
    assert claimed == ran
    assert "make -j3 pythons" in (ROOT / ".ci" / "run").read_text()
