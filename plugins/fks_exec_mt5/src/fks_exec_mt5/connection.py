"""The plugin's connection to the terminal: start-up, the worker thread, reconnects."""

from __future__ import annotations

import logging
import sys
import zlib
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple, TypeVar

from fks_exec.errors import BrokerUnavailable, PluginInitError
from fks_exec.kit import BadBrokerNumber
from fks_exec.plugin import ExecutionPlugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.config import Mt5Config
from fks_exec_mt5.session import LinkDown, Mt5Session
from fks_exec_mt5.worker import Mt5Worker

__all__ = ["Mt5Connection", "derived_magic", "import_module"]

T = TypeVar("T")

_INIT_HINTS = {
    c.RES_E_INTERNAL_FAIL_INIT: "is MetaTrader 5 installed and running? Set FKS_EXEC_MT5_PATH "
    "to terminal64.exe if it is not found",
    c.RES_E_AUTH_FAILED: "check FKS_EXEC_MT5_LOGIN, FKS_EXEC_MT5_PASSWORD and FKS_EXEC_MT5_SERVER",
    c.RES_E_INTERNAL_FAIL_CONNECT: "the terminal (or the bridge) is not reachable; start it",
    c.RES_E_INTERNAL_FAIL_TIMEOUT: "the terminal did not answer in time; raise "
    "FKS_EXEC_MT5_TIMEOUT_MS",
}


def import_module(config: Mt5Config) -> Any:
    """The MetaTrader5 module (or the bridge to one) the config asks for.

    Raises :class:`PluginInitError` saying how to get one when it is not installed.
    """
    if config.bridge == "fks":
        from fks_exec_mt5.bridge.client import BridgeModule

        if config.bridge_secret is None:
            raise PluginInitError(
                "FKS_EXEC_MT5_BRIDGE=fks needs FKS_EXEC_MT5_BRIDGE_SECRET, the secret the "
                "bridge server was started with"
            )
        return BridgeModule(
            config.host,
            config.port,
            config.bridge_secret.get_secret_value(),
            timeout_s=config.bridge_timeout_s,
        )
    try:
        import MetaTrader5  # type: ignore[import-not-found]
    except ImportError:
        if sys.platform != "win32":
            raise PluginInitError(
                "the MetaTrader5 package exists for Windows only. On Linux or macOS run the "
                "terminal under Wine with this plugin's bridge (docs/plugins/mt5.md, "
                "FKS_EXEC_MT5_BRIDGE=fks), or pass Mt5Plugin(mt5=<a compatible module>)"
            ) from None
        raise PluginInitError("install the MetaTrader5 package: pip install MetaTrader5") from None
    return MetaTrader5


def derived_magic(name: str, login: int, server: str) -> int:
    """A stable nonzero magic for plugin ``name`` on account ``login``@``server``."""
    return zlib.crc32(f"fks-exec|{name}|{login}|{server}".encode()) & 0x7FFFFFFF or 1


class Mt5Connection(ExecutionPlugin):
    """The connection half of :class:`~fks_exec_mt5.plugin.Mt5Plugin` (see there)."""

    def __init__(self, mt5: Any = None) -> None:
        super().__init__()
        self._module = mt5
        self._worker: Mt5Worker | None = None
        self._session: Mt5Session | None = None
        self._init_kwargs: dict[str, Any] = {}
        self._stale = False
        self._trade_mode = c.ACCOUNT_TRADE_MODE_REAL
        self._account: Account | None = None
        """The account init found: a reconnect into any other is refused."""
        self._moved: str | None = None
        """Set when a reconnect found the terminal in another account: why every call
        is refused until the next init."""
        self.login = 0
        """The connected account number (after init)."""

    # ------------------------------------------------------------------ lifecycle

    @property
    def worker(self) -> Mt5Worker:
        """The worker thread's handle. Raises :class:`BrokerUnavailable` before init."""
        if self._worker is None:
            raise BrokerUnavailable("plugin 'mt5' is not initialized; call init()")
        return self._worker

    @property
    def session(self) -> Mt5Session:
        """The account state (mode, magic, clock). Raises :class:`BrokerUnavailable`
        before init."""
        if self._session is None:
            raise BrokerUnavailable("plugin 'mt5' is not initialized; call init()")
        return self._session

    @property
    def hedging(self) -> bool:
        """True on a retail hedging account (positions per ticket)."""
        return self.session.hedging

    @property
    def magic(self) -> int:
        """The magic stamped on this plugin's orders."""
        return self.session.magic

    async def _connect(self, config: Mt5Config) -> None:
        module = self._module if self._module is not None else import_module(config)
        worker = Mt5Worker(module)
        kwargs: dict[str, Any] = {"timeout": config.timeout_ms}
        if config.path:
            kwargs["path"] = config.path
        if config.login is not None:
            kwargs["login"] = config.login
            if config.password is not None:
                kwargs["password"] = config.password.get_secret_value()
            if config.server:
                kwargs["server"] = config.server
        self._init_kwargs = kwargs
        try:
            account = await worker.run(_start, module, kwargs)
        except BaseException:
            await _quietly_shutdown(worker)
            raise
        self.login = int(account.login)
        self._trade_mode = int(account.trade_mode)
        self._account = Account.of(account)
        self._moved = None
        magic = config.magic or derived_magic(self.name, self.login, str(account.server))
        self._session = Mt5Session(
            module,
            config,
            magic=magic,
            hedging=self._account.hedging,
            fifo=self._account.fifo,
        )
        self._worker = worker

    def _broker_says_paper(self) -> bool | None:
        return self._trade_mode in _PAPER_MODES

    async def _close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            await _quietly_shutdown(worker)

    def _job(self, function: Callable[..., T], *args: Any) -> Coroutine[Any, Any, T]:
        """``await self._job(function, *args)``: ``function(*args)`` on the worker,
        re-initializing first after a lost link.

        Raises :class:`BrokerUnavailable` when the link is down (nothing was sent) or
        a read gave a number no answer can have (named; nothing was sent either: an
        order's own checks turn that into a refusal before any request is sent). The
        errors are translated on the worker, so a hop awaits one coroutine (the
        worker's own), not a second one around it.
        """
        return self.worker.run(self._on_worker, function, *args)

    def _on_worker(self, function: Callable[..., T], *args: Any) -> T:
        try:
            if self._moved is not None:
                raise BrokerUnavailable(self._moved)
            if self._stale:
                self._reconnect()
            return function(*args)
        except LinkDown as exc:
            self._stale = True
            raise BrokerUnavailable(f"MetaTrader 5: {exc}; nothing was sent") from None
        except BadBrokerNumber as exc:
            raise BrokerUnavailable(f"{exc}; nothing was sent") from None

    def _reconnect(self) -> None:
        """On the worker: shut the link down and initialize it again (LinkDown if that
        fails); the cached symbol rules are dropped.

        The terminal may have been logged in to another account meanwhile (without a
        configured login ``initialize`` keeps whichever it is in): its
        ``account_info()`` is read again, and an account other than init's (login,
        server, demo or real, netting or hedging, or a FIFO close rule turned on or off:
        the plugin plans closes by it) refuses every call from then on with
        :class:`BrokerUnavailable`, until the plugin is started again."""
        mt5 = self.session.mt5
        mt5.shutdown()
        if not mt5.initialize(**self._init_kwargs):
            code, text = mt5.last_error()
            raise LinkDown(f"reconnecting failed ({code}, {text})")
        info = mt5.account_info()
        if info is None:
            code, text = mt5.last_error()
            raise LinkDown(f"account_info after reconnecting failed ({code}, {text})")
        now, before = Account.of(info), self._account
        if before is not None and now != before:
            if now._replace(fifo=before.fifo) == before:  # the same account, new FIFO rule
                self._moved = (
                    f"MetaTrader 5 reconnected into {now}, whose FIFO close rule "
                    f"(ACCOUNT_FIFO_CLOSE) is now {_on(now.fifo)}, but this plugin was "
                    f"started with it {_on(before.fifo)} and plans every close by it. "
                    "Every order is refused: close the plugin and init it again, so that "
                    "it closes by the account's rule as it is now; nothing was sent"
                )
            else:
                self._moved = (
                    f"MetaTrader 5 reconnected into another account: the terminal is now in "
                    f"{now}, but this plugin was started on {before} (its magic, account "
                    f"mode and paper/live setting are that account's). Every order is "
                    f"refused: log the terminal back in to account {before.login}, or close "
                    "the plugin and init it again on the account it should trade; nothing "
                    "was sent"
                )
            self.log.error("%s", self._moved)
            raise BrokerUnavailable(self._moved)
        self._stale = False
        self.session.forget_symbols()  # the terminal may have new specifications
        self.log.info("reconnected to MetaTrader 5")


class Account(NamedTuple):
    """What identifies the account a terminal is in, for the plugin's purposes."""

    login: int
    server: str
    paper: bool
    """A demo or contest account (``trade_mode``); False for a real one."""
    hedging: bool
    """``margin_mode`` is retail hedging."""
    fifo: bool = False
    """``fifo_close``: positions close first in, first out (what closes are allowed)."""

    @classmethod
    def of(cls, info: Any) -> Account:
        """From an AccountInfo."""
        return cls(
            int(info.login),
            str(info.server),
            int(info.trade_mode) in _PAPER_MODES,
            info.margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING,
            bool(getattr(info, "fifo_close", False)),
        )

    def __str__(self) -> str:
        kind = "demo" if self.paper else "REAL"
        mode = "hedging" if self.hedging else "netting"
        fifo = ", FIFO" if self.fifo else ""
        return f"account {self.login}@{self.server} ({kind}, {mode}{fifo})"


def _on(flag: bool) -> str:
    return "on" if flag else "off"


_PAPER_MODES = (c.ACCOUNT_TRADE_MODE_DEMO, c.ACCOUNT_TRADE_MODE_CONTEST)


def _start(mt5: Any, kwargs: dict[str, Any]) -> Any:
    """On the worker: initialize and check the account may trade; its AccountInfo."""
    if not mt5.initialize(**kwargs):
        code, text = mt5.last_error()
        hint = _INIT_HINTS.get(code, "see the terminal's journal")
        raise PluginInitError(f"MetaTrader 5 did not start ({code}, {text}): {hint}")
    account = mt5.account_info()
    terminal = None if account is None else mt5.terminal_info()  # keeps its last_error()
    if account is None or terminal is None:
        code, text = mt5.last_error()
        raise PluginInitError(f"MetaTrader 5 gave no account or terminal ({code}, {text})")
    if not terminal.trade_allowed:
        raise PluginInitError(
            "Algo Trading is off in the terminal: press 'Algo Trading' in its toolbar "
            "(and allow algorithmic trading in Tools > Options > Expert Advisors)"
        )
    if getattr(terminal, "tradeapi_disabled", False):
        raise PluginInitError(
            "trading through the Python API is disabled: untick 'Disable automatic trading "
            "via external Python API' in Tools > Options > Expert Advisors"
        )
    if not account.trade_allowed:
        raise PluginInitError(
            f"account {account.login} may not trade: logged in with the investor "
            "(read-only) password?"
        )
    return account


async def _quietly_shutdown(worker: Mt5Worker) -> None:
    try:
        await worker.call("shutdown")
    except Exception as exc:  # closing must not fail, whatever the terminal does
        logging.getLogger("fks_exec.plugins.mt5").warning("MetaTrader 5 shutdown failed: %r", exc)
    worker.close()
