"""The plugin's side of the bridge: an object with the MetaTrader5 package's API.

:class:`BridgeModule` is handed to the plugin in place of ``import MetaTrader5``. Its
calls block (a socket round trip), so the plugin makes them on its worker thread,
never on the event loop. Like the package, a failed call returns None (False for
``initialize``, ``login``, ``symbol_select``) and ``last_error()`` says why, with the
package's own codes, chosen by where the link broke:

- cannot connect, or the server is gone before the request is written: -10004
  (``RES_E_INTERNAL_FAIL_CONNECT``) or -10001 (send failed): nothing was sent;
- the request was written but no answer came: -10002 (receive failed) or -10005
  (timeout): it may have been acted on;
- the server refused the shared secret: -6 (``RES_E_AUTH_FAILED``).

After a failure the connection is dropped; the next call connects again, so the
plugin recovers by itself once the bridge is back.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
from typing import Any

from fks_exec_mt5.bridge.protocol import (
    FUNCTIONS,
    MAX_HANDSHAKE_FRAME,
    ProtocolError,
    decode,
    encode,
    proof,
    read_frame,
    write_frame,
)

__all__ = ["BridgeModule"]

_BOOL_FUNCTIONS = frozenset({"initialize", "login", "symbol_select", "market_book_add"})
_CONNECT = (-10004, "IPC connect failed: the bridge is not reachable")
_SEND = (-10001, "IPC send failed: the bridge connection broke before the request left")
_RECEIVE = (-10002, "IPC recv failed: the bridge connection broke after the request left")
_TIMEOUT = (-10005, "IPC timeout: the bridge did not answer in time")
_AUTH = (-6, "Authorization failed: the bridge refused the shared secret")


class _Refused(Exception):
    pass


class BridgeModule:
    """The MetaTrader5 API of a terminal reached through the bridge server."""

    def __init__(
        self,
        host: str,
        port: int,
        secret: str,
        *,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        """Nothing connects until the first call."""
        self._address = (host, port)
        self._secret = secret
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._sock: socket.socket | None = None
        self._constants: dict[str, Any] = {}
        self._last_error: tuple[int, str] = (1, "Success")
        self._lock = threading.Lock()
        self.__version__ = ""

    def __repr__(self) -> str:
        host, port = self._address
        return f"<BridgeModule {host}:{port} {'connected' if self._sock else 'not connected'}>"

    def __getattr__(self, name: str) -> Any:
        if name in FUNCTIONS:
            return functools.partial(self._call, name)
        if name.isupper():
            if not self._constants:
                with self._lock:
                    self._ensure_connected()
            if name in self._constants:
                return self._constants[name]
        raise AttributeError(name)

    def last_error(self) -> tuple[int, str]:
        """The last call's error, as the package gives it (see the module doc)."""
        return self._last_error

    def close(self) -> None:
        """Drop the connection (the next call connects again)."""
        with self._lock:
            self._drop()

    def _ensure_connected(self) -> bool:
        if self._sock is not None:
            return True
        try:
            sock = socket.create_connection(self._address, timeout=self._connect_timeout_s)
        except OSError:
            self._last_error = _CONNECT
            return False
        try:
            sock.settimeout(self._connect_timeout_s)
            hello = read_frame(sock, MAX_HANDSHAKE_FRAME)
            write_frame(sock, {"auth": proof(self._secret, str(hello["hello"])[:64])})
            if not read_frame(sock, MAX_HANDSHAKE_FRAME).get("ok"):
                raise _Refused
            info = read_frame(sock, MAX_HANDSHAKE_FRAME)
            constants = dict(info.get("constants", {}))
            version = str(info.get("version", ""))[:64]
        except _Refused:
            sock.close()
            self._last_error = _AUTH
            return False
        except (OSError, ProtocolError, KeyError, TypeError, AttributeError, ValueError):
            sock.close()
            self._last_error = _CONNECT
            return False
        sock.settimeout(self._timeout_s)
        self._constants = constants
        self.__version__ = version
        self._sock = sock
        return True

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        failed: Any = False if name in _BOOL_FUNCTIONS else None
        with self._lock:
            if not self._ensure_connected():
                return failed
            sock = self._sock
            assert sock is not None
            message = {"call": name, "args": encode(list(args)), "kwargs": encode(kwargs)}
            try:
                write_frame(sock, message)
            except OSError:
                return self._fail(failed, _SEND)
            try:
                reply = read_frame(sock)
            except TimeoutError:
                return self._fail(failed, _TIMEOUT)
            except (OSError, ProtocolError):
                return self._fail(failed, _RECEIVE)
            try:
                return self._value_of(reply, failed)
            except (ProtocolError, KeyError, TypeError, ValueError):
                # an answer came but it is not one: as if none came (it may have acted)
                return self._fail(failed, _RECEIVE)

    def _value_of(self, reply: Any, failed: Any) -> Any:
        if not isinstance(reply, dict):
            raise ProtocolError("an answer is a JSON object")
        if "error" in reply:
            self._last_error = (-2, f"Invalid arguments: {str(reply['error'])[:200]}")
            return failed
        value = decode(reply["value"])
        error = reply.get("last_error")
        if error:
            code, text = error
            if type(code) is not int:
                raise ProtocolError("last_error code is not an integer")
            self._last_error = (code, str(text)[:200])
        return value

    def _fail(self, value: Any, error: tuple[int, str]) -> Any:
        self._drop()
        self._last_error = error
        return value
