"""Exceptions raised by fks-exec.

Every exception fks-exec raises on purpose derives from :class:`FksExecError`::

    FksExecError
    ├── ConfigurationError      a setting, keyword or FKS_EXEC_* variable is wrong
    ├── PluginNotFound          no installed plugin has that name (also a LookupError)
    ├── PluginLoadError         a plugin's entry point could not be imported
    ├── PluginInitError         a plugin could not connect or start
    ├── NotSupported            the plugin lacks the capability that was asked for
    ├── RoutingError            no plugin could be chosen for an order or symbol
    ├── DuplicateClientOrderId  one client order id used for two different orders
    ├── OrderDenied             a plugin refused an order before sending it (a hook raises
    │                           it; callers get a rejected result with ``sent=False``)
    ├── OutcomeUnknown          a request may have reached the broker; its outcome is not known
    └── BrokerUnavailable       the broker could not be reached; nothing was sent

An invalid :class:`~fks_exec.Order` is not in this tree: it fails at construction with
``pydantic.ValidationError``, a ``ValueError``. A broker's refusal of an order is not an
exception either but an :class:`~fks_exec.ExecutionResult` with ``success=False``.

Each message says what went wrong and what to do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # models import these errors
    from fks_exec.models import ExecutionResult

__all__ = [
    "BrokerUnavailable",
    "ConfigurationError",
    "DuplicateClientOrderId",
    "FksExecError",
    "NotSupported",
    "OrderDenied",
    "OutcomeUnknown",
    "PluginInitError",
    "PluginLoadError",
    "PluginNotFound",
    "RoutingError",
]


class FksExecError(Exception):
    """Base class of every error fks-exec raises on purpose."""


class ConfigurationError(FksExecError, ValueError):
    """A configuration value (keyword, config mapping or FKS_EXEC_* variable) is invalid."""


class PluginNotFound(FksExecError, LookupError):
    """No plugin of that name is installed, registered or enabled."""


class PluginLoadError(FksExecError):
    """A plugin's entry point failed to import, or two distributions claim one name."""


class PluginInitError(FksExecError):
    """A plugin failed to start: bad credentials, unreachable terminal, missing SDK."""


class NotSupported(FksExecError):
    """The plugin does not offer the operation or order feature that was asked for."""


class RoutingError(FksExecError):
    """No plugin could be chosen: no explicit plugin, no matching route, no default."""


class DuplicateClientOrderId(FksExecError, ValueError):
    """A client order id already used for one order was given to a different order.

    The client order id is the idempotency key: reusing it for another order would
    make the second order indistinguishable from a retry of the first.
    """

    @classmethod
    def reused(cls, client_order_id: str, remembered_by: str = "") -> DuplicateClientOrderId:
        """The error for ``client_order_id`` given to a second, different order;
        ``remembered_by`` names what remembers the first (e.g. "the journal")."""
        where = f" ({remembered_by} remembers it)" if remembered_by else ""
        return cls(
            f"client_order_id {client_order_id!r} was already used for a different order"
            f"{where}; give each order its own id (or omit it to get a fresh one)"
        )

    @classmethod
    def other_plugin(
        cls, client_order_id: str, recorded: str, asked: str
    ) -> DuplicateClientOrderId:
        """The error for ``client_order_id``, taken by plugin ``recorded``, given to an
        order meant for plugin ``asked`` (not ``recorded`` nor one of its fallbacks)."""
        return cls(
            f"client_order_id {client_order_id!r} was already used on plugin {recorded!r}; "
            f"this order is for {asked!r}, and nothing was sent to it. An id is spent on "
            "the plugin that took it: give this order its own id (or omit it to get a "
            "fresh one)"
        )


class OrderDenied(FksExecError):
    """Raised by a plugin's ``_execute_order`` hook to refuse an order before sending it.

    The base class turns it into a result with ``status=rejected``, ``sent=False`` and
    ``error_code`` (default ``invalid_order``), so the caller knows nothing left and a
    corrected order, or the same one once the cause is fixed, may be sent. Callers of
    the public API never see this exception.
    """

    def __init__(self, message: str, error_code: str = "invalid_order") -> None:
        super().__init__(message)
        self.error_code = error_code


class OutcomeUnknown(FksExecError):
    """A request that changes the account may have reached the broker, but no answer came.

    Raised by ``close_position`` when the plugin failed after it may have sent orders,
    or (the executor's) when a closing order is still ``unknown`` after looking it up:
    check ``positions()`` before trying again, never repeat blindly. ``results`` holds
    the closing orders' results where they are known (empty when the plugin failed).
    """

    def __init__(self, message: str, results: Sequence[ExecutionResult] = ()) -> None:
        super().__init__(message)
        self.results: list[ExecutionResult] = list(results)


class BrokerUnavailable(FksExecError):
    """The broker could not be reached and the request was not sent.

    This is the only failure on which the executor tries a fallback plugin, because
    only here is it certain that the first broker did not receive the order.
    """
