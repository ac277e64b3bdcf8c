"""Misspelt ``FKS_EXEC_*`` variables: :func:`check_env_names`.

A variable nobody reads is a setting silently lost (a typo in the webhook's minimum
confidence means every signal trades), so every ``FKS_EXEC_*`` name is sorted into:

- a variable of the core (``FKS_EXEC_DEFAULT``, ``_ROUTES``, ``_FALLBACKS``,
  ``_ALLOW_PAPER_FALLBACK``, ``_PLUGINS``, ``_DISABLED``, ``_JOURNAL``): fine;
- ``FKS_EXEC_WEBHOOK_*``: checked field by field when the server reads its settings
  (:func:`check_prefixed_names`);
- ``FKS_EXEC_<PLUGIN>_*`` and ``FKS_EXEC_<PLUGIN>__<INSTANCE>_*`` of an installed plugin:
  checked by that plugin's config model when it starts;
- anything else: an **error** when it resembles a core, webhook or journal variable, a
  **warning** when it looks like the settings of a plugin that is not installed.

Plugins are known by their entry-point names only: nothing is imported to learn them.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Iterable, Mapping

from fks_exec.errors import ConfigurationError

__all__ = ["CORE_VARIABLES", "check_env_names", "check_prefixed_names"]

logger = logging.getLogger("fks_exec.config")

PREFIX = "FKS_EXEC_"
CORE_VARIABLES = frozenset(
    f"{PREFIX}{name}"
    for name in (
        "DEFAULT",
        "ROUTES",
        "FALLBACKS",
        "ALLOW_PAPER_FALLBACK",
        "PLUGINS",
        "DISABLED",
        "JOURNAL",
    )
)
"""Every variable the core reads itself (plugins and the webhook server read theirs)."""

_CORE_PREFIXES = ("WEBHOOK", "JOURNAL")
_warned: set[str] = set()


def check_env_names(
    plugin_names: Iterable[str], environ: Mapping[str, str] | None = None
) -> list[str]:
    """Check every ``FKS_EXEC_*`` variable's name; return the warnings it logged.

    ``plugin_names`` are the installed (or registered) plugins; their variables are left
    to their own config models. Raises :class:`ConfigurationError` listing each variable
    that resembles a core, webhook or journal one, with a "did you mean". Values are
    never read or repeated.
    """
    env = os.environ if environ is None else environ
    kinds = sorted({name.split(":", 1)[0].upper() for name in plugin_names})
    errors: list[str] = []
    warnings: list[str] = []
    for key in sorted(env):
        name = key.upper()
        if not name.startswith(PREFIX) or name in CORE_VARIABLES:
            continue
        rest = name[len(PREFIX) :]
        if rest.startswith("WEBHOOK_") or any(rest.startswith(f"{k}_") for k in kinds):
            continue  # the server / the plugin checks its own fields
        problem, fatal = _diagnose(key, rest, kinds)
        (errors if fatal else warnings).append(problem)
    for warning in warnings:
        if warning not in _warned:
            _warned.add(warning)
            logger.warning("%s", warning)
    if errors:
        raise ConfigurationError("; ".join(errors))
    return warnings


def _diagnose(key: str, rest: str, kinds: list[str]) -> tuple[str, bool]:
    """Say what is wrong with one unread variable and whether that is an error."""
    core = sorted(name[len(PREFIX) :] for name in CORE_VARIABLES)
    close = difflib.get_close_matches(rest, core, n=1, cutoff=0.8)
    if close:
        return f"{key} is not a variable fks-exec reads (did you mean {PREFIX}{close[0]}?)", True
    squashed = rest.replace("_", "")
    for prefix in _CORE_PREFIXES:
        if squashed.startswith(prefix) and not rest.startswith(f"{prefix}_"):
            return (
                f"{key} is not a variable fks-exec reads (did you mean {PREFIX}{prefix}_*?)",
                True,
            )
    head, sep, _ = rest.partition("_")
    if not sep:
        return (
            f"{key} is not a variable fks-exec reads; the core reads "
            f"{', '.join(sorted(CORE_VARIABLES))}",
            True,
        )
    prefixes = difflib.get_close_matches(head, [*_CORE_PREFIXES, *kinds], n=1, cutoff=0.7)
    if prefixes and prefixes[0] in _CORE_PREFIXES:
        hint = (
            "FKS_EXEC_JOURNAL (one variable)"
            if prefixes[0] == "JOURNAL"
            else f"{PREFIX}{prefixes[0]}_{rest.partition('_')[2]}"
        )
        return f"{key} is not a variable fks-exec reads (did you mean {hint}?)", True
    if prefixes:
        return (
            f"{key} is ignored: no installed plugin is called {head.lower()!r} "
            f"(did you mean {PREFIX}{prefixes[0]}_{rest.partition('_')[2]}?)",
            False,
        )
    from fks_exec.registry import INSTALL_HINTS

    dist = INSTALL_HINTS.get(head.lower())
    install = f"; install it with: pip install {dist}" if dist else ""
    return (
        f"{key} is ignored: plugin {head.lower()!r} is not installed{install} "
        f"(installed: {', '.join(k.lower() for k in kinds) or 'none'})",
        False,
    )


def check_prefixed_names(
    prefix: str, fields: Iterable[str], environ: Mapping[str, str] | None = None
) -> None:
    """Refuse ``<prefix>*`` variables that name none of ``fields`` (e.g. the webhook's).

    Raises :class:`ConfigurationError` naming each unknown variable with the closest
    known one and listing them all.
    """
    env = os.environ if environ is None else environ
    known = sorted(f"{prefix}{field}".upper() for field in fields)
    unknown = sorted(
        key for key in env if key.upper().startswith(prefix) and key.upper() not in known
    )
    if not unknown:
        return
    problems = []
    for key in unknown:
        close = difflib.get_close_matches(key.upper(), known, n=1, cutoff=0.6)
        problems.append(f"{key} (did you mean {close[0]}?)" if close else key)
    raise ConfigurationError(
        f"unknown variable(s): {'; '.join(problems)}. Known: {', '.join(known)}"
    )
