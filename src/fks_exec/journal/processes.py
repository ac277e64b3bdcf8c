"""Whether the process a journal owner names still runs: the one-machine check.

An owner names its host and process id. A process id alone is not a process: after a
crash the kernel hands the same id to another program (at once when ids wrap, routinely
after a reboot or in a container whose strategy is always the same low id), and that
program would count as the holder for ever. So where the system tells it (Linux's
``/proc``), an owner also carries its process's *mark*: the kernel's boot id and the
process's start time in clock ticks since boot (proc(5): ``/proc/sys/kernel/random/
boot_id``, and field 22, ``starttime``, of ``/proc/PID/stat``). A process with the
named id but another mark is another process: the holder is gone. Where there is no
``/proc`` the mark is empty and the id alone decides, as before.

The boot id is the kernel's: containers on one machine share it while their hostnames
and process ids differ, which is how :func:`same_kernel` tells a holder in another
container of this machine.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

__all__ = ["boot_mark", "process_exists", "process_mark", "same_kernel"]

_PROC = Path("/proc")


@cache
def boot_mark() -> str:
    """The first 8 hex digits of this kernel's boot id ('' where it is not known)."""
    try:
        text = (_PROC / "sys/kernel/random/boot_id").read_text(encoding="ascii")
    except OSError:
        return ""
    digits = text.strip().replace("-", "")[:8]
    return digits if len(digits) == 8 else ""


def process_mark(pid: int) -> str:
    """``<boot mark>-<start ticks>`` of process ``pid``, or '' when it is not known (no
    ``/proc``, no such process, a field it cannot read)."""
    boot = boot_mark()
    if not boot:
        return ""
    try:
        stat = (_PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return ""
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the fields
    # are counted after its last ")"; starttime is field 22, the 20th after comm.
    fields = stat[stat.rfind(b")") + 1 :].split()
    if len(fields) < 20 or not fields[19].isdigit():
        return ""
    return f"{boot}-{int(fields[19])}"


def same_kernel(mark: str) -> bool:
    """True when ``mark`` (a :func:`process_mark`) was taken under this kernel's boot."""
    boot = boot_mark()
    return bool(boot) and mark.partition("-")[0] == boot


def process_exists(pid: int) -> bool:
    """True when a process with id ``pid`` runs (under any user)."""
    if pid <= 0:  # kill(0, ...) would ask about this process's own group
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True
