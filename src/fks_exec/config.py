"""Configuration: plugin config models and the FKS_EXEC_* environment variables.

A plugin's settings come from two places, merged field by field: keyword values
(``Executor(configs={"ccxt": {...}})``) win over ``FKS_EXEC_<PLUGIN>_<FIELD>``
variables. Both pass through the plugin's own :class:`PluginConfig` subclass, so one
set of rules validates them. Secrets are ``SecretStr`` and input values are never
echoed in error messages.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from importlib.metadata import entry_points
from typing import Annotated, Any, Optional, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from fks_exec._names import parse_name_list, split_instance
from fks_exec.env_names import check_env_names, check_prefixed_names
from fks_exec.errors import ConfigurationError

__all__ = [
    "ENV_PREFIX",
    "MAX_DURATION_S",
    "ExecutorSettings",
    "PluginConfig",
    "check_durations",
    "env_prefix",
    "load_plugin_config",
]

ENV_PREFIX = "FKS_EXEC_"
_Settings = TypeVar("_Settings", bound=BaseSettings)


class PluginConfig(BaseModel):
    """Base class of every plugin's config model: frozen, unknown fields forbidden.

    Subclass it, give every field a type, a default where one is sensible, and a
    docstring; use ``SecretStr`` for secrets and put units in names (``timeout_ms``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    paper: bool | None = None
    """True for a paper/demo/simulation account, False for real money, None to take
    what the broker reports (live when it cannot tell). When both are known and
    disagree, ``init`` fails with :class:`ConfigurationError`."""


def env_prefix(plugin_name: str) -> str:
    """Return the variable prefix of a plugin's settings, e.g. ``FKS_EXEC_CCXT_``.

    A named instance ``ccxt:okx-testnet`` reads ``FKS_EXEC_CCXT__OKX_TESTNET_*``
    (two underscores after the plugin, ``-`` as ``_``). Raises ``ValueError`` for a
    malformed instance name.
    """
    kind, instance = split_instance(plugin_name)
    if instance is None:
        return f"{ENV_PREFIX}{kind.upper()}_"
    return f"{ENV_PREFIX}{kind.upper()}__{instance.upper().replace('-', '_')}_"


@cache
def _env_reader(model: type[PluginConfig], prefix: str) -> type[BaseSettings]:
    # A BaseSettings twin of the plugin's model with every field optional, used only to
    # read and decode the environment (JSON for dicts and lists); the plugin's own model
    # then validates the merged values, so its validators run once, on everything.
    annotations = {
        name: Optional[field.annotation]  # noqa: UP045 - built at run time
        for name, field in model.model_fields.items()
    }
    namespace: dict[str, Any] = {
        "__annotations__": annotations,
        "model_config": SettingsConfigDict(
            env_prefix=prefix,
            case_sensitive=False,
            extra="ignore",
            hide_input_in_errors=True,
            env_parse_none_str="null",
        ),
        **dict.fromkeys(annotations),
    }
    return type(f"{model.__name__}Env", (BaseSettings,), namespace)


def _read_env(plugin_name: str, model: type[PluginConfig], prefix: str) -> dict[str, Any]:
    # Raised after the except blocks, so no error carries pydantic's (which holds the
    # values read, secrets included, in .errors()) as its __context__.
    try:
        settings = _env_reader(model, prefix)()
    except ValidationError as exc:
        problem = _describe(plugin_name, prefix, exc)
    except Exception as exc:  # pydantic-settings' JSON decoding error (SettingsError)
        problem = (
            f"cannot read the {prefix}* variables of plugin {plugin_name!r}: {exc}; "
            "fields that hold a dict or list take JSON"
        )
    else:
        return {name: getattr(settings, name) for name in settings.model_fields_set}
    raise ConfigurationError(problem)


def _unknown_env_names(model: type[PluginConfig], prefix: str) -> list[str]:
    known = {f"{prefix}{name}".upper() for name in model.model_fields}
    instances = f"{prefix}_"  # FKS_EXEC_CCXT__<INSTANCE>_* belong to named instances
    return sorted(
        key
        for key in os.environ
        if key.upper().startswith(prefix)
        and not key.upper().startswith(instances)
        and key.upper() not in known
    )


def load_plugin_config(
    plugin_name: str,
    model: type[PluginConfig],
    values: Mapping[str, Any] | None = None,
    *,
    use_env: bool = True,
) -> PluginConfig:
    """Validate a plugin's config from ``values`` merged over its FKS_EXEC_* variables.

    Raises :class:`ConfigurationError` naming each bad field and the variable that
    sets it; the offending values themselves are never repeated (they may be secrets).
    """
    prefix = env_prefix(plugin_name)
    merged: dict[str, Any] = {}
    if use_env:
        unknown = _unknown_env_names(model, prefix)
        if unknown:
            fields = [f"{prefix}{name.upper()}" for name in model.model_fields]
            hints = [
                f"{key} (did you mean {', '.join(difflib.get_close_matches(key, fields, 1))}?)"
                if difflib.get_close_matches(key, fields, 1)
                else key
                for key in unknown
            ]
            raise ConfigurationError(
                f"unknown setting(s) for plugin {plugin_name!r}: {'; '.join(hints)}. "
                f"Known: {', '.join(fields) or 'none'}"
            )
        merged.update(_read_env(plugin_name, model, prefix))
    if values is not None and not isinstance(values, Mapping):
        raise ConfigurationError(
            f"the config of plugin {plugin_name!r} must be a dict of settings, not "
            f"{type(values).__name__}; e.g. {{'{plugin_name}': {{'paper': True}}}}"
        )
    if values:
        unknown_keys = sorted(set(values) - set(model.model_fields))
        if unknown_keys:
            raise ConfigurationError(
                f"unknown config key(s) for plugin {plugin_name!r}: {', '.join(unknown_keys)}. "
                f"Known: {', '.join(model.model_fields) or 'none'}"
            )
        merged.update(values)
    try:
        config = model.model_validate(merged)
    except ValidationError as exc:  # raised below: its values must not be the context
        problem = _describe(plugin_name, prefix, exc)
    else:
        _check_ranges(plugin_name, prefix, config)
        return config
    raise ConfigurationError(problem)


MAX_DURATION_S = 86_400
"""The longest duration any setting accepts (one day): a field named ``*_s`` holds at
most this many seconds, ``*_ms`` this many thousand milliseconds."""
_DURATION_LIMITS = {"_s": MAX_DURATION_S, "_ms": MAX_DURATION_S * 1000}


def _check_ranges(plugin_name: str, prefix: str, config: PluginConfig) -> None:
    # Rules every plugin's config follows by its names: numbers are finite, durations
    # (*_s, *_ms) between 0 and a day, ports (port, *_port) between 1 and 65535.
    for name in type(config).model_fields:
        value = getattr(config, name)
        where = f"invalid config for plugin {plugin_name!r}: {name} ({prefix}{name.upper()})"
        problem = _range_problem(name, value)
        if problem:
            raise ConfigurationError(f"{where}: {problem}")


def _range_problem(name: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, (float, Decimal)) and not math.isfinite(value):
        return "must be a finite number"
    for suffix, limit in _DURATION_LIMITS.items():
        if name.endswith(suffix) and not 0 <= value <= limit:
            return f"a duration must be between 0 and {limit} ({suffix.lstrip('_')})"
    if (name == "port" or name.endswith("_port")) and not 1 <= value <= 65535:
        return "a port must be between 1 and 65535"
    return None


def check_durations(**durations: float) -> None:
    """Refuse a non-finite, negative or over-a-day duration given as a keyword.

    Raises :class:`ConfigurationError` naming the keyword.
    """
    for name, value in durations.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise ConfigurationError(f"{name} must be a number of seconds")
        if not math.isfinite(value) or not 0 <= value <= MAX_DURATION_S:
            raise ConfigurationError(
                f"{name} must be a finite number of seconds from 0 to {MAX_DURATION_S}"
            )


_JSON_TYPES = frozenset({"dict_type", "list_type", "model_type", "tuple_type", "set_type"})


def _describe(plugin_name: str, prefix: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "(config)"
        var = f"{prefix}{str(error['loc'][0]).upper()}" if error["loc"] else prefix
        hint = " (as a variable, give it as JSON)" if error["type"] in _JSON_TYPES else ""
        problems.append(f"{field} ({var}): {error['msg']}{hint}")
    return f"invalid config for plugin {plugin_name!r}: " + "; ".join(problems)


def _parse_pairs(text: str, what: str, example: str) -> list[tuple[str, str]]:
    pairs = []
    for rule in text.split(";"):
        if not rule.strip():
            continue
        key, sep, value = rule.rpartition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{what} rule {rule.strip()!r} is not KEY=VALUE; e.g. {example}")
        pairs.append((key.strip(), value.strip()))
    return pairs


def settings_from_env(cls: type[_Settings], prefix: str) -> _Settings:
    """Instantiate a BaseSettings class from the environment.

    Variables under ``prefix`` that name no field are refused with a "did you mean"
    (for the top-level ``FKS_EXEC_`` prefix, see :func:`fks_exec.env_names.check_env_names`).
    Raises :class:`ConfigurationError` naming each bad variable (values not repeated).
    """
    if prefix != ENV_PREFIX:
        check_prefixed_names(prefix, cls.model_fields)
    # Raised after the except blocks: pydantic's errors hold the values read (secrets
    # included), so they must not be the __context__ of what the caller gets.
    try:
        return cls()
    except ValidationError as exc:
        problem = "; ".join(
            f"{prefix}{str(e['loc'][0]).upper()}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
    except SettingsError as exc:  # a dict or list field whose variable is not JSON
        field = str(exc).partition('field "')[2].partition('"')[0]
        problem = (
            f"{prefix}{field.upper()} is not valid JSON; give it as JSON, "
            'e.g. {"BINANCE:BTCUSDT": "ccxt:BTC/USDT"} for a table'
        )
    raise ConfigurationError(problem)


class ExecutorSettings(BaseSettings):
    """The executor's own FKS_EXEC_* variables.

    ``FKS_EXEC_DEFAULT`` (plugin name), ``FKS_EXEC_ROUTES`` (``BTC/*=ccxt;EURUSD=mt5``),
    ``FKS_EXEC_FALLBACKS`` (``mt5=ccxt,mock``), ``FKS_EXEC_ALLOW_PAPER_FALLBACK``
    (``ccxt=mock``: fallbacks allowed to cross paper and live), ``FKS_EXEC_PLUGINS`` (allowlist) and
    ``FKS_EXEC_DISABLED`` (denylist), both comma lists.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, case_sensitive=False, extra="ignore", frozen=True
    )

    default: str | None = None
    routes: Annotated[dict[str, str], NoDecode] = {}
    fallbacks: Annotated[dict[str, list[str]], NoDecode] = {}
    allow_paper_fallback: Annotated[dict[str, list[str]], NoDecode] = {}
    plugins: Annotated[list[str] | None, NoDecode] = None
    disabled: Annotated[list[str], NoDecode] = []

    @field_validator("routes", mode="before")
    @classmethod
    def _routes(cls, value: Any) -> Any:
        if isinstance(value, str):
            return dict(_parse_pairs(value, "FKS_EXEC_ROUTES", "'BTC/*=ccxt;EURUSD=mt5'"))
        return value

    @field_validator("fallbacks", "allow_paper_fallback", mode="before")
    @classmethod
    def _fallbacks(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            what = f"FKS_EXEC_{str(info.field_name).upper()}"
            pairs = _parse_pairs(value, what, "'mt5=ccxt,mock'")
            return {key: parse_name_list(names) for key, names in pairs}
        return value

    @field_validator("plugins", "disabled", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_name_list(value)
        return value

    @classmethod
    def from_env(cls) -> ExecutorSettings:
        """Read the variables. Raises :class:`ConfigurationError` naming the bad one, or a
        misspelt ``FKS_EXEC_*`` variable (plugins are known by entry point, not imported)."""
        check_env_names(ep.name for ep in entry_points(group="fks_exec.plugins"))
        return settings_from_env(cls, ENV_PREFIX)
