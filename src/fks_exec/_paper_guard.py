"""Paper and live never mix by accident: :class:`PaperLiveGuard`.

A fallback from an instance that trades real money to a paper one (or the reverse)
would turn an outage into a silent fake fill, or a test into a real trade. The
executor asks this guard before it starts and before it uses a fallback; a pair the
user did not allow by name (``allow_paper_fallback={"ccxt": ["mock"]}``) is a
:class:`ConfigurationError`.

Whether a name is paper: a started instance says (``is_paper``, checked against the
broker where it tells); one not started yet counts as paper only when its config says
``paper=True`` or it is the mock; otherwise it counts as live, the safe assumption.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fks_exec._names import split_instance
from fks_exec.errors import ConfigurationError
from fks_exec.plugin import ExecutionPlugin

__all__ = ["PaperLiveGuard"]

Started = Callable[[str], ExecutionPlugin | None]


class PaperLiveGuard:
    """Checks fallback pairs against paper/live; see the module docstring."""

    def __init__(
        self,
        fallbacks: Mapping[str, Iterable[str]],
        allowed: Mapping[str, Iterable[str]],
        configs: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self._fallbacks = {k: tuple(v) for k, v in fallbacks.items()}
        self._allowed = {k: frozenset(v) for k, v in allowed.items()}
        self._configs = configs
        unknown = [p for p in self._allowed if p not in self._fallbacks]
        if unknown:
            raise ConfigurationError(
                f"allow_paper_fallback names {', '.join(map(repr, unknown))}, which have no "
                "fallbacks; list the pairs you allow, e.g. {'ccxt': ['mock']}"
            )

    def is_paper(self, name: str, started: Started) -> bool:
        """Whether ``name`` trades paper (see the module docstring for unstarted ones)."""
        plugin = started(name)
        if plugin is not None and plugin.is_initialized:
            return plugin.is_paper
        setting = self._configs.get(name, {}).get("paper")
        if setting is not None:
            return bool(setting)
        return split_instance(name)[0] == "mock"

    def refusal(self, primary: str, fallback: str, started: Started) -> str | None:
        """Why ``fallback`` may not take ``primary``'s orders, or None when it may."""
        if fallback in self._allowed.get(primary, ()):
            return None
        first, other = self.is_paper(primary, started), self.is_paper(fallback, started)
        if first is other:
            return None
        kinds = {True: "paper", False: "live (real money)"}
        return (
            f"fallback {primary!r} -> {fallback!r} mixes {kinds[first]} with "
            f"{kinds[other]}; allow it by name with allow_paper_fallback="
            f"{{{primary!r}: [{fallback!r}]}} (FKS_EXEC_ALLOW_PAPER_FALLBACK={primary}="
            f"{fallback}) or remove the fallback"
        )

    def check(self, started: Started, names: Iterable[str] | None = None) -> None:
        """Raise :class:`ConfigurationError` for every refused pair (those involving
        ``names`` only, when given)."""
        wanted = None if names is None else set(names)
        problems = [
            problem
            for primary, others in self._fallbacks.items()
            for fallback in others
            if wanted is None or primary in wanted or fallback in wanted
            if (problem := self.refusal(primary, fallback, started)) is not None
        ]
        if problems:
            raise ConfigurationError("; ".join(problems))
