"""The small shared kit plugins are built from, so no plugin re-invents it.

* :class:`BoundedDict`: a dict that forgets its oldest entries past a size;
* :class:`TtlCache`: values that expire after a number of seconds;
* :class:`Backoff`: capped, jittered delays for reconnect loops;
* :class:`SerialWorker`: one dedicated thread for a blocking SDK that must not be
  called from two threads (woken through eventfds on Linux, a queue elsewhere);
* :func:`running_loop`: the running event loop from one kept earlier, without asking
  asyncio (a ``getpid()`` per call on Python 3.10-3.11);
* :func:`broker_decimal`: a number from a broker's reply, parsed with bounds.

The denial type is :class:`fks_exec.errors.OrderDenied`; results are built with
:meth:`fks_exec.ExecutionPlugin.result_for` and ``cancel_result_for``, which stamp the
plugin's name.
"""

from __future__ import annotations

from fks_exec._loops import running_loop
from fks_exec.kit.backoff import Backoff
from fks_exec.kit.bounded import BoundedDict
from fks_exec.kit.numbers import BadBrokerNumber, broker_decimal
from fks_exec.kit.ttl import TtlCache
from fks_exec.kit.worker import SerialWorker, WorkerClosed

__all__ = [
    "Backoff",
    "BadBrokerNumber",
    "BoundedDict",
    "SerialWorker",
    "TtlCache",
    "WorkerClosed",
    "broker_decimal",
    "running_loop",
]
