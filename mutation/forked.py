"""Run a function in a forked copy of this process, with a time limit and its output in a file.

The fork shares everything this process imported, so a mutant's test run pays no interpreter
start, no imports and no test collection beyond pytest's own bookkeeping. The child leads its
own process group: on a timeout the whole group (any server a test started) is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CRASHED = 98  # the function raised: its traceback is in the log


@dataclass(frozen=True)
class Exit:
    """How a forked run ended: its exit code, or None when it ran past its time."""

    code: int | None

    @property
    def timed_out(self) -> bool:
        """Whether the run was killed for running past its time limit."""
        return self.code is None


@contextlib.contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (the file descriptors) to `path` meanwhile."""
    with path.open("ab") as sink:
        saved = os.dup(1), os.dup(2)
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_forked(body: Callable[[], int], timeout: float, log: Path) -> Exit:
    """Run `body` in a child process; its return value is the exit code (CRASHED if it
    raised). Output goes to `log` (overwritten). Never raises for what the child does."""
    log.write_bytes(b"")
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = CRASHED
        try:
            os.setpgid(0, 0)
            with output_to(log):
                sys.stdout = sys.stderr = open(1, "w", closefd=False)  # noqa: SIM115
                try:
                    code = body()
                except BaseException:  # everything the mutant does is reported
                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
        finally:
            os._exit(code)
    return _wait(pid, time.monotonic() + timeout)


def _wait(pid: int, deadline: float) -> Exit:
    """Wait for `pid` until `deadline`, then kill its process group."""
    pause = 0.001
    code: int | None = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            break
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # what the run left behind (or the run itself)
    if code is None:
        os.waitpid(pid, 0)
    return Exit(code)
