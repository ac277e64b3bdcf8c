"""A throwaway PostgreSQL cluster in a temporary folder, for tests and benchmarks.

``initdb`` refuses to run as root (and CI runs as root), so under root the server runs
as an unprivileged user (``postgres`` when the Debian package made one, else
``nobody``) through ``runuser``. It listens on a Unix socket in its folder and on
127.0.0.1 at a free port, nothing else, with ``trust`` authentication for the one
superuser ``fks``. Every wait is bounded. Binaries are found on PATH, in
/usr/local/bin, or in Debian's /usr/lib/postgresql/*/bin.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PgCluster", "find_binary"]

SUPERUSER = "fks"
START_TIMEOUT_S = 60


def find_binary(name: str) -> str | None:
    """The path of the PostgreSQL server program ``name``, or None."""
    found = shutil.which(name) or shutil.which(name, path="/usr/local/bin")
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and found no unprivileged user for PostgreSQL")


class PgCluster:
    """One server: :meth:`start` it, take :meth:`url` s, :meth:`stop` it (removes its
    folder). ``durable=False`` turns fsync off (tests); True keeps the defaults."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.port = 0
        self.base = Path(tempfile.mkdtemp(prefix="fks-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self._user = _server_user()

    def _run(self, *argv: str, timeout_s: float = START_TIMEOUT_S) -> None:
        command = list(argv) if self._user is None else ["runuser", "-u", self._user, "--", *argv]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False,
            env={**os.environ, "LC_ALL": "C"},
        )  # fmt: skip
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr}\n{log}")

    def start(self) -> PgCluster:
        """initdb and start; raises RuntimeError (with the server log) on failure."""
        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        os.chmod(self.base, 0o755)
        if self._user is not None:
            shutil.chown(self.base, user=self._user)
        self._run(initdb, "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync")  # fmt: skip
        self.port = _free_port()
        settings = [
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base}",
            "-c max_connections=60 -c shared_buffers=32MB",
        ]
        if not self.durable:
            settings.append("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", str(START_TIMEOUT_S), "-o", " ".join(settings), "start")  # fmt: skip
        return self

    def url(self, dbname: str = "postgres", *, search_path: str | None = None) -> str:
        """A libpq URL for ``dbname`` over the Unix socket (``search_path`` selects a
        schema)."""
        url = f"postgresql://{SUPERUSER}@/{dbname}?host={self.base}&port={self.port}"
        return url + (f"&options=-csearch_path%3D{search_path}" if search_path else "")

    def tcp_url(self, dbname: str = "postgres") -> str:
        """The same database over TCP on loopback, as another host would reach it."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        """Stop the server (bounded) and delete its folder."""
        pg_ctl = find_binary("pg_ctl")
        try:
            if pg_ctl is not None and (self.data / "postmaster.pid").exists():
                self._run(pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "-t", "30",
                          "stop")  # fmt: skip
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
