"""Run a function in a forked copy of this process, with a time limit and its output in a file.

The fork shares everything this process imported, so a mutant's test run pays no interpreter
start, no imports and no test collection beyond pytest's own bookkeeping. The child leads its
own process group: on a timeout the whole group (any server a test started) is killed.

Time limits are in CPU seconds (RLIMIT_CPU: the kernel stops the child once it has used
them), so a busy machine cannot make a slow but correct mutant look like an endless loop.
A wall-clock limit remains as the net for a run that hangs without using CPU (a wait that
never ends); it is stretched by the machine's load when the run starts.
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CRASHED = 98  # the function raised: its traceback is in the log


@dataclass(frozen=True)
class Exit:
    """How a forked run ended: its exit code (None when killed for its wall-clock limit),
    and which limit ("cpu" or "wall") it ran past, if any."""

    code: int | None
    limit: str = ""

    @property
    def timed_out(self) -> bool:
        """Whether the run was killed for running past a time limit."""
        return bool(self.limit)


@dataclass(frozen=True)
class Limits:
    """A run's time limits: CPU seconds of its own process (each process it starts gets as
    many of its own), and wall seconds before the load stretch (see `wall_now`)."""

    cpu: float
    wall: float

    def wall_now(self) -> float:
        """The wall limit stretched by the load now (runnable processes per core, >= 1)."""
        return self.wall * load_stretch()


def load_stretch() -> float:
    """How many runnable processes share each core (the 1-minute load average), from 1 to 4:
    the wall limits come from a baseline timed under the same load, and each run that hangs
    waits out its whole stretched limit."""
    return min(4.0, max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1)))


def limit_cpu(seconds: float) -> None:
    """Have the kernel stop this process (SIGXCPU, then SIGKILL 5 s later if that is
    caught) once it has used `seconds` of CPU; processes it starts inherit the limit."""
    soft = max(1, math.ceil(seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 5))


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


def run_forked(body: Callable[[], int], limits: Limits | float, log: Path) -> Exit:
    """Run `body` in a child process; its return value is the exit code (CRASHED if it
    raised). `limits` as Limits, or a number: wall seconds only. Output goes to `log`
    (overwritten). Never raises for what the child does."""
    if not isinstance(limits, Limits):
        limits = Limits(cpu=math.inf, wall=float(limits))
    log.write_bytes(b"")
    deadline = time.monotonic() + limits.wall_now()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = CRASHED
        try:
            os.setpgid(0, 0)
            if math.isfinite(limits.cpu):
                limit_cpu(limits.cpu)
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
    return wait_for(pid, deadline, math.isfinite(limits.cpu))


def wait_for(pid: int, deadline: float, cpu_limited: bool = False) -> Exit:
    """Wait for the child `pid` until `deadline` (time.monotonic), then kill its process
    group; a child the kernel stopped for its CPU limit (SIGXCPU, or SIGKILL past the hard
    limit, when `cpu_limited`) ran past "cpu"."""
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
        return Exit(None, "wall")
    stopped = (-signal.SIGXCPU, -signal.SIGKILL) if cpu_limited else ()
    return Exit(code, "cpu" if code in stopped else "")


def run_process(command: list[str], limits: Limits, log: Path) -> Exit:
    """Run `command` as a new process group under `limits`, its output to `log`
    (overwritten); on a timeout the whole group is killed. Raises OSError when it cannot
    start."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    soft = max(1, math.ceil(limits.cpu))
    with contextlib.suppress(ProcessLookupError):  # the limit counts from its start anyway
        resource.prlimit(process.pid, resource.RLIMIT_CPU, (soft, soft + 5))
    exit_ = wait_for(process.pid, time.monotonic() + limits.wall_now(), cpu_limited=True)
    process.returncode = -1 if exit_.code is None else exit_.code  # reaped by wait_for
    return exit_
