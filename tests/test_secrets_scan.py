"""The secrets scan: distinctive secrets everywhere, then grep all a user can see.

Every ``SecretStr`` field of every plugin's config, and the webhook server's, gets a
value no other text contains. Then everything a user can see is collected (results,
exceptions with their whole chained tracebacks, failing inits, reprs and dumps, the
command line at ``-v`` and ``-vv`` with a real ccxt object whose HTTP session is
replaced below ccxt's own request logging, the server's log at DEBUG) and searched.
Each part also proves the secret was really in play, so the scan cannot pass by
never meeting a secret.
"""

from __future__ import annotations

import inspect
import io
import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from fks_exec import (
    Capability,
    ExecutionPlugin,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    PluginConfig,
    Position,
)
from fks_exec.cli import main as cli_main
from fks_exec.cli_logging import configure_logging
from fks_exec.redaction import REDACTED

SECRET = "leaky-secret-3f9a1c77e2"
"""What the leaky plugin's config holds and every hook of it tries to leak."""


def _texts_of(exc: BaseException) -> str:
    """Everything a traceback of ``exc`` shows, with chained causes and contexts, plus
    the messages, args and attributes of every exception along the chain."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        parts += [str(current), repr(current.args), repr(vars(current))]
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
    return "\n".join(parts)


# ------------------------------------------------------------------ the guard


class LeakyConfig(PluginConfig):
    """A config with one secret."""

    token: SecretStr = SecretStr("")


def _leak() -> Exception:
    """An exception chain that carries the secret in its message, its cause, its
    context and an attribute, as vendor errors that echo a request do."""
    try:
        try:
            raise KeyError(f"header X-Token: {SECRET}")
        except KeyError as inner:
            raise ValueError(f"while signing with {SECRET}") from inner
    except ValueError as middle:
        error = RuntimeError(f"venue said: bad token {SECRET}")
        error.request = {"headers": {"X-Token": SECRET}}  # type: ignore[attr-defined]
        error.__context__ = middle
        return error


class LeakyPlugin(ExecutionPlugin):
    """Every hook fails with, or answers with, the configured secret."""

    name = "leaky"
    config_model = LeakyConfig
    capabilities = frozenset(Capability)
    fail = True

    async def _connect(self, config: Any) -> None:
        if config.paper is False:  # the switch for a failing init
            raise _leak()

    def _answer(self, order: Order) -> ExecutionResult:
        return ExecutionResult.for_order(
            order,
            plugin=self.name,
            status=OrderStatus.REJECTED,
            error=f"refused token {SECRET}",
            raw={"echo": [SECRET, {"nested": f"x{SECRET}x"}]},
        )

    async def _execute_order(self, order: Order) -> ExecutionResult:
        if self.fail:
            raise _leak()
        return self._answer(order)

    async def _fetch_data(self, symbol: str) -> MarketData:
        raise _leak()

    async def _health_check(self) -> HealthStatus:
        if self.fail:
            raise _leak()
        return HealthStatus(healthy=False, detail=f"token {SECRET} revoked")

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        raise _leak()

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        raise _leak()

    async def _positions(self) -> list[Position]:
        raise _leak()

    async def _close_position(self, symbol: str, quantity: Decimal | None) -> list[ExecutionResult]:
        if self.fail:
            raise _leak()
        return [self._answer(Order.market(symbol, "sell", quantity or 1))]

    def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> dict[str, str]:
        raise _leak()

    async def _close(self) -> None:
        raise _leak()


def _calls(plugin: LeakyPlugin) -> dict[str, Callable[[], Awaitable[Any]]]:
    async def hints() -> Any:
        return plugin.lookup_hints(Order.market("X", "buy", 1))

    return {
        "execute_order": lambda: plugin.execute_order(Order.market("X", "buy", 1)),
        "execute_claimed": lambda: plugin.execute_claimed(Order.market("X", "buy", 1), {}),
        "fetch_data": lambda: plugin.fetch_data("X"),
        "health_check": plugin.health_check,
        "cancel_order": lambda: plugin.cancel_order("42", "X"),
        "get_order": lambda: plugin.get_order("abc"),
        "find_order": lambda: plugin.find_order("abc", {"k": "v"}),
        "positions": plugin.positions,
        "close_position": lambda: plugin.close_position("X"),
        "lookup_hints": hints,
        "close": plugin.close,
    }


def _public_methods() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(ExecutionPlugin)
        if not name.startswith("_") and inspect.isfunction(member)
    } - {
        "supports",
        "redact",
        "init",
        "bind_instance_name",
        "set_capabilities",
        "mask_also",  # adds secrets to mask (tested in test_plugin_mutants.py)
        "consult_claims",  # keeps a mapping, calls nothing (tests/test_plugin_claimed.py)
        "result_for",
        "cancel_result_for",
    }


def test_every_public_method_is_scanned() -> None:
    """A method added to the ABC later must be added to the scan, or this fails."""
    plugin = LeakyPlugin()
    assert set(_calls(plugin)) == _public_methods()


async def _outcome(call: Callable[[], Awaitable[Any]]) -> str:
    try:
        value = await call()
    except Exception as exc:
        return _texts_of(exc)
    if isinstance(value, list):
        return "\n".join(v.model_dump_json() for v in value)
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json()) + repr(value)
    return repr(value)


@pytest.mark.parametrize("fail", [True, False], ids=["raising", "answering"])
async def test_no_public_method_leaks_a_secret(
    fail: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    plugin = LeakyPlugin()
    plugin.use_env = False
    await plugin.init({"token": SECRET})
    plugin.fail = fail
    seen = []
    for name, call in _calls(plugin).items():
        text = await _outcome(call)
        assert SECRET not in text, name
        seen.append(text)
        if name == "close":
            await plugin.init({"token": SECRET})
            plugin.fail = fail
    assert SECRET not in caplog.text
    blob = "\n".join(seen)
    assert REDACTED in blob  # the secret was met and masked, not avoided
    for dump in (repr(plugin), repr(plugin.config), str(plugin.config.model_dump())):
        assert SECRET not in dump


async def test_a_failing_init_does_not_leak_its_secret() -> None:
    plugin = LeakyPlugin()
    plugin.use_env = False
    with pytest.raises(Exception) as failure:  # noqa: PT011 - the chain is what is checked
        await plugin.init({"token": SECRET, "paper": False})
    text = _texts_of(failure.value)
    assert SECRET not in text
    assert REDACTED in text and "RuntimeError" in text  # the cause is kept, masked


# ------------------------------------------------------------------ every config


def _secret_fields() -> Iterator[tuple[str, type[PluginConfig], str]]:
    from fks_exec.mock import MockPlugin

    models: list[tuple[str, type[PluginConfig]]] = [("mock", MockPlugin.config_model)]
    for plugin, module, cls in (
        ("ccxt", "fks_exec_ccxt", "CcxtPlugin"),
        ("mt5", "fks_exec_mt5", "Mt5Plugin"),
        ("ninja", "fks_exec_ninja", "NinjaPlugin"),
    ):
        imported = pytest.importorskip(module)
        models.append((plugin, getattr(imported, cls).config_model))
    for plugin, model in models:
        for field, info in model.model_fields.items():
            if "SecretStr" in str(info.annotation):
                yield plugin, model, field


def test_every_secret_field_is_secret_in_reprs_and_dumps() -> None:
    fields = list(_secret_fields())
    assert {p for p, _, _ in fields} >= {"ccxt", "mt5"}  # the scan met real secret fields
    for plugin, model, field in fields:
        value = f"{plugin}-{field}-0d9c8b7a"
        config = model.model_validate({field: value})
        for text in (repr(config), str(config), str(config.model_dump()), config.model_dump_json()):
            assert value not in text, (plugin, field)


# ------------------------------------------------------------------ the CLI


CCXT_KEY = "cli-ccxt-key-51d0e3a9"
CCXT_SECRET = "cli-ccxt-secret-8e2f4b61"
WEBHOOK_SECRET = "cli-webhook-secret-a7c3"
WEBHOOK_PASSPHRASE = "cli-webhook-pass-b8d4"


@pytest.fixture
def ccxt_echoing_the_key(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A real ccxt binance object whose aiohttp session answers every request with
    Binance's -2015 error quoting the API key back; returns the requests it saw."""
    pytest.importorskip("fks_exec_ccxt")

    from ccxt.async_support.base.exchange import Exchange as AsyncExchange

    from fks_exec_ccxt.testing.aiohttp_transport import HttpResponse, attach_session

    seen: list[Any] = []

    async def venue(request: Any) -> HttpResponse:
        seen.append(request)
        body = json.dumps({"code": -2015, "msg": f"Invalid API-key {CCXT_KEY}, IP"})
        return HttpResponse(401, body)

    def open_fake_session(self: Any, *args: Any, **kwargs: Any) -> None:
        # Where ccxt would open its aiohttp session: everything above it (request
        # building, signing, ccxt's request log, error handling) runs for real.
        if self.session is None:
            attach_session(self, venue)

    monkeypatch.setattr(AsyncExchange, "open", open_fake_session)
    for name, value in {
        "FKS_EXEC_CCXT_EXCHANGE": "binance",
        "FKS_EXEC_CCXT_API_KEY": CCXT_KEY,
        "FKS_EXEC_CCXT_SECRET": CCXT_SECRET,
        "FKS_EXEC_CCXT_OPTIONS": '{"fetchMarkets": {"types": ["spot"]}}',
        "FKS_EXEC_DEFAULT": "ccxt",
        "FKS_EXEC_PLUGINS": "ccxt",
        "FKS_EXEC_JOURNAL": "memory",
    }.items():
        monkeypatch.setenv(name, value)
    return seen


@pytest.mark.parametrize("verbosity", ["-v", "-vv"])
def test_the_cli_masks_secrets_at_every_verbosity(
    verbosity: str,
    ccxt_echoing_the_key: list[Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    for name in ("ccxt", "ccxt.base", "ccxt.base.exchange"):  # whatever another test set
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    real = configure_logging
    monkeypatch.setattr(
        "fks_exec.cli_logging.configure_logging",
        lambda verbosity, _stream=None: real(verbosity, stream),
    )
    try:
        cli_main([verbosity, "health"])
        cli_main([verbosity, "order", "buy", "BTC/USDT", "0.001"])
    finally:
        logging.getLogger().handlers = [
            h for h in logging.getLogger().handlers if h.get_name() != "fks-exec-cli"
        ]
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("fks_exec").setLevel(logging.NOTSET)
    out = capsys.readouterr()
    blob = "\n".join([out.out, out.err, stream.getvalue()])
    assert any(CCXT_KEY in str(r.headers) for r in ccxt_echoing_the_key)  # the key went out
    for secret in (CCXT_KEY, CCXT_SECRET):
        assert secret not in blob, verbosity
    assert REDACTED in blob
    if verbosity == "-vv":
        assert "Request:" in stream.getvalue()  # ccxt's own request log ran, masked
    else:
        assert "Request:" not in stream.getvalue()  # third-party DEBUG stays off at -v
        assert "DEBUG fks_exec" in stream.getvalue()


# ------------------------------------------------------------------ the server


def test_the_server_log_at_debug_shows_no_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from fks_exec import Executor
    from fks_exec.server import WebhookSettings, create_app
    from fks_exec.signals import signature_for

    monkeypatch.setenv("FKS_EXEC_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("FKS_EXEC_WEBHOOK_PASSPHRASE", WEBHOOK_PASSPHRASE)
    caplog.set_level(logging.DEBUG)
    settings = WebhookSettings()
    executor = Executor(default="mock", configs={"mock": {"prices": {"BTC/USDT": "100"}}})
    body = json.dumps(
        {"ticker": "BTC/USDT", "action": "buy", "quantity": "1", "passphrase": WEBHOOK_PASSPHRASE}
    ).encode()
    with TestClient(create_app(executor, settings)) as client:
        answers = [
            client.post("/webhook/tradingview", content=body),
            client.post(
                "/execute/signal",
                content=body,
                headers={"X-Webhook-Signature": signature_for(WEBHOOK_SECRET, body)},
            ),
            client.post("/execute/signal", content=body.replace(b"BTC", b"ETH")),
        ]
    dumps = [repr(settings), str(settings.model_dump()), repr(vars(settings.auth()))]
    blob = "\n".join([caplog.text, *dumps, *(a.text for a in answers)])
    for secret in (WEBHOOK_SECRET, WEBHOOK_PASSPHRASE):
        assert secret not in blob
    assert len(answers) == 3 and all(a.status_code < 500 for a in answers)


def test_a_signal_keeps_its_passphrase_secret() -> None:
    from fks_exec.signals import parse_signal

    signal = parse_signal(
        {"ticker": "X", "action": "buy", "quantity": 1, "passphrase": WEBHOOK_PASSPHRASE}
    )
    assert WEBHOOK_PASSPHRASE not in repr(signal)
    assert WEBHOOK_PASSPHRASE not in repr(vars(signal))
    assert isinstance(signal.passphrase, SecretStr)


def test_the_cli_run_in_process_leaves_no_handler_or_level_behind() -> None:
    # A handler left on the root logger after main() returned wrote to a closed stream
    # and, through its MaskingFilter, rewrote the records other handlers (caplog) saw.
    root, own = logging.getLogger(), logging.getLogger("fks_exec")
    before = (list(root.handlers), root.level, own.level)
    assert cli_main(["-vv", "plugins"]) == 0
    assert (list(root.handlers), root.level, own.level) == before
