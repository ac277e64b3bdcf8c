"""Which lines of one file each test runs, recorded without a call stack.

coverage.py's tracers keep a stack of frames, pushed on each `call` event and popped on each
`return`. CPython 3.11 omits the `call` event when a coroutine or generator is resumed by a
throw into a frame that delegates (`await` / `yield from`): an `await` of a cancelled task
caught with `suppress(CancelledError)` one frame down, as `JournalKeeper.close()` does with
its lease-renewal task. The stack then pops one frame too many, and the rest of the caller
(and of its callers) is recorded against the wrong file or not at all
(coveragepy/coveragepy#2124; fixed in 3.12 by sys.monitoring). A mutant on such a line was
then run against too few tests: a false survivor.

This recorder needs no stack: the global trace function gives each frame of the file a
local one, which CPython keeps on the frame (`f_trace`) for its whole life, so every line
event of that frame arrives however it was resumed. Frames of other files get no local
tracer, so they pay only their `call` event. Threads started while recording are traced too.
"""

from __future__ import annotations

import sys
import threading
import types
from typing import Any

OUTSIDE_TESTS = "<outside tests>"

TraceFunction = Any  # sys.settrace's callback type is private to typeshed


class LineRecorder:
    """Records, per context (a test's node id), the lines of `filename` that ran."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines_by_context: dict[str, set[int]] = {}
        self._sink = self.lines_by_context.setdefault(OUTSIDE_TESTS, set())

    def switch_context(self, context: str) -> None:
        """Record the lines that run from now on under `context`."""
        self._sink = self.lines_by_context.setdefault(context, set())

    def _call(self, frame: types.FrameType, _event: str, _arg: object) -> TraceFunction:
        return self._line if frame.f_code.co_filename == self.filename else None

    def _line(self, frame: types.FrameType, event: str, _arg: object) -> TraceFunction:
        if event == "line":
            self._sink.add(frame.f_lineno)
        return self._line

    def start(self) -> None:
        """Trace this thread and the threads started from now on."""
        threading.settrace(self._call)
        sys.settrace(self._call)

    def stop(self) -> None:
        """Stop tracing this thread and the threads started from now on."""
        sys.settrace(None)
        threading.settrace(None)

    def contexts_by_line(self) -> dict[int, set[str]]:
        """Line -> the contexts under which it ran (as coverage's `contexts_by_lineno`)."""
        by_line: dict[int, set[str]] = {}
        for context, lines in self.lines_by_context.items():
            for line in lines:
                by_line.setdefault(line, set()).add(context)
        return by_line
