"""A plugin registry for tests and fault runs: exactly the plugins given, nothing from the
machine (no installed plugin discovered, no ``FKS_EXEC_*`` variable read)."""

from __future__ import annotations

from fks_exec.plugin import ExecutionPlugin
from fks_exec.registry import PluginRegistry


def isolated_registry(**plugins: ExecutionPlugin) -> PluginRegistry:
    """A :class:`~fks_exec.PluginRegistry` holding exactly ``plugins``, each under its
    keyword's name (a name with a colon goes through a dict:
    ``isolated_registry(**{"mock:paper": MockPlugin()})``).

    Nothing installed is discovered; ``FKS_EXEC_PLUGINS`` and ``FKS_EXEC_DISABLED`` are
    ignored (the names given, and their ``name:instance`` forms, are the allowlist); and
    every plugin given stops reading its ``FKS_EXEC_<NAME>_*`` variables
    (``use_env = False``), so only the config an executor passes reaches it. The same
    machine, whatever is set in its environment, gives the same test. (An instance the
    registry makes later of a given plugin's class, ``mock:small`` for ``mock``, is a
    new object and reads its variables as usual.)

    Raises :class:`TypeError` for a value that is not a plugin *instance* (a class would
    read the environment when the registry creates it: register a class on a
    ``PluginRegistry`` of your own), and as :meth:`PluginRegistry.register` for a name
    it refuses.
    """
    for name, plugin in plugins.items():  # all checked before any is changed
        if not isinstance(plugin, ExecutionPlugin):
            raise TypeError(
                f"isolated_registry({name}=...) takes a plugin instance, not "
                f"{_described(plugin)}: create the plugin first, e.g. {name}=MockPlugin()"
            )
    registry = PluginRegistry(discover=False, enabled=plugins, disabled=())
    for name, plugin in plugins.items():
        plugin.use_env = False
        registry.register(name, plugin)
    return registry


def _described(value: object) -> str:
    """What a wrong argument is, by its type only (its repr could hold a secret)."""
    if isinstance(value, type):
        return f"the class {value.__name__}"
    return f"a {type(value).__name__}"
