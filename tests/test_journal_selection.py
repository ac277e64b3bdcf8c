"""Where the default journal file lives: platformdirs' per-user state directory, as
docs/journal.md says (checked in a fresh process, outside the pytest plugin that moves
it for every test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SHOW = "from fks_exec.journal.selection import default_path; print(default_path())"


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG layout is Linux's")
def test_the_default_file_is_in_the_xdg_state_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    shown = subprocess.run(
        [sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert Path(shown.stdout.strip()) == tmp_path / "state" / "fks-exec" / "journal.sqlite3"
    env.pop("XDG_STATE_HOME")
    env["HOME"] = str(tmp_path / "home")
    shown = subprocess.run(
        [sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, timeout=60
    )
    expected = tmp_path / "home" / ".local" / "state" / "fks-exec" / "journal.sqlite3"
    assert Path(shown.stdout.strip()) == expected
