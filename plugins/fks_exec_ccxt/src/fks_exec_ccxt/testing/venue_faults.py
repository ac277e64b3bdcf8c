"""The fault plan of the reference venues, applied around each HTTP request they answer.

:class:`HttpFaultPlan` is :class:`fks_exec.testing.faults.FaultPlan` in HTTP terms: a
planned fault is a canned :class:`HttpResponse` (the venue does not act) or a
:data:`FaultKind` the transport raises the way aiohttp would. Both the OKX and the Kraken
fake inherit it and answer through :meth:`HttpFaultPlan.serve_with_faults`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fks_exec.testing.faults import FaultPlan
from fks_exec_ccxt.testing.aiohttp_transport import (
    FaultKind,
    HttpRequest,
    HttpResponse,
    TransportFault,
)

__all__ = ["HttpFault", "HttpFaultPlan"]

HttpFault = HttpResponse | FaultKind
"""A canned answer, or a transport fault kind."""


class HttpFaultPlan(FaultPlan[HttpFault]):
    """Planned HTTP faults, the connection switch and latency of a fake venue.

    ``refuse_next`` plans a refused connection, ``lose_next_answer`` a reset one.
    """

    def __init__(self) -> None:
        super().__init__(refuse="refused", lose="reset")

    def fail_next_request(
        self,
        fault: HttpFault,
        *,
        path: str | None = None,
        after_venue_acted: bool = False,
    ) -> None:
        """Make the next request (whose path contains ``path``) fail.

        ``fault`` is an answer to give instead (e.g. ``HttpResponse.text("<html>",
        403, "text/html")``; the venue does not act) or a transport fault kind. For
        ``reset``/``read_timeout``/``cut_body``, ``after_venue_acted`` says whether the
        venue handles the request first (``cut_body`` always does: it cuts the answer).
        """
        self.plan_fault(fault, where=path, after_broker_acted=after_venue_acted)

    async def serve_with_faults(
        self,
        request: HttpRequest,
        *,
        is_order: bool,
        answer: Callable[[HttpRequest], HttpResponse],
    ) -> HttpResponse:
        """``answer(request)``, or the fault planned for it; raises :class:`TransportFault`.

        Disconnected: refused. A planned answer replaces the venue's. ``refused`` and
        ``connect_timeout`` never reach the venue, nor do ``reset``/``read_timeout``
        unless planned after the venue acted; the latency delays the venue's answer, and
        a fault kind planned after it is raised with that answer (``cut_body`` cuts it).
        """
        if self.disconnected:
            raise TransportFault("refused")
        planned = self.take_fault(request.path, is_order=is_order)
        if planned is not None and isinstance(planned.fault, HttpResponse):
            return planned.fault
        kind = None if planned is None else planned.fault
        assert not isinstance(kind, HttpResponse)
        acted_first = planned is not None and planned.after_broker_acted
        if kind in ("refused", "connect_timeout") or (
            kind in ("reset", "read_timeout") and not acted_first
        ):
            raise TransportFault(kind)
        response = answer(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        if kind is not None:
            raise TransportFault(kind, response)
        return response
