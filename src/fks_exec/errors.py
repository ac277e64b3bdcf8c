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
    └── BrokerUnavailable       the broker could not be reached; nothing was sent

An invalid :class:`~fks_exec.Order` is not in this tree: it fails at construction with
``pydantic.ValidationError``, a ``ValueError``. A broker's refusal of an order is not an
exception either but an :class:`~fks_exec.ExecutionResult` with ``success=False``.

Each message says what went wrong and what to do next.
"""

from __future__ import annotations

__all__ = [
    "BrokerUnavailable",
    "ConfigurationError",
    "DuplicateClientOrderId",
    "FksExecError",
    "NotSupported",
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


class BrokerUnavailable(FksExecError):
    """The broker could not be reached and the request was not sent.

    This is the only failure on which the executor tries a fallback plugin, because
    only here is it certain that the first broker did not receive the order.
    """
