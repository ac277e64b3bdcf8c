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


@pytest.mark.parametrize(
    "spec",
    [
        "host=127.0.0.1 port=5432 user=alice password=pw-leak-1 dbname=trading",
        "dbname=trading password=pw-leak-1",
        "postgresql:/alice:pw-leak-1@127.0.0.1/db",  # one slash
        "postgres:alice:pw-leak-1@127.0.0.1/db",
    ],
)
def test_a_connection_string_is_refused_not_made_a_file(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Taken as a path it made a file named after it, password and all, and showed it
    # in logs, reprs and the CLI's output.
    from fks_exec.errors import ConfigurationError
    from fks_exec.journal.selection import journal_from_spec

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="postgresql://user@host") as refused:
        journal_from_spec(spec)
    assert "pw-leak-1" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "spec", ["journal.sqlite3", "./a=b.sqlite3", "C:/x/j.sqlite3", "~/j.sqlite3", "/tmp/j"]
)
def test_file_paths_are_still_file_paths(spec: str) -> None:
    from fks_exec.journal.selection import journal_from_spec
    from fks_exec.journal.sqlite import SqliteJournal

    assert isinstance(journal_from_spec(spec), SqliteJournal)
