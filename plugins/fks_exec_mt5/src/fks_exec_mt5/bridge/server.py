"""The bridge server: run it next to the terminal, in the Python that has MetaTrader5.

    set FKS_EXEC_MT5_BRIDGE_SECRET=<a long random secret>
    python -m fks_exec_mt5.bridge.server --port 18812

It listens on 127.0.0.1 unless ``--host`` says otherwise, refuses to start without a
secret, answers only clients that prove they know it, and calls only the package's
functions (:data:`~fks_exec_mt5.bridge.protocol.FUNCTIONS`), one call at a time (the
package is not thread-safe). Requests are never logged (they carry the password of
``initialize``).
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import logging
import os
import secrets
import socket
import socketserver
import sys
import threading
from collections.abc import Sequence
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

__all__ = ["BridgeServer", "main"]

logger = logging.getLogger("fks_exec_mt5.bridge")

SECRET_VARIABLE = "FKS_EXEC_MT5_BRIDGE_SECRET"  # noqa: S105 - a variable name
_HANDSHAKE_TIMEOUT_S = 10.0


class BridgeServer:
    """Serves ``module``'s functions on ``host``:``port`` to clients knowing ``secret``."""

    def __init__(self, module: Any, secret: str, host: str = "127.0.0.1", port: int = 18812):
        """Bind now (port 0 picks a free one, see :attr:`port`); raises ``ValueError``
        for a secret shorter than 16 characters and ``OSError`` when the port is taken."""
        if len(secret) < 16:
            raise ValueError("the bridge secret must have at least 16 characters")
        self.module = module
        self._secret = secret
        self._lock = threading.Lock()
        handler = _handler_for(self)
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve on a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fks-mt5-bridge",
            daemon=True,
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections, self._connections = self._connections, set()
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def track(self, sock: socket.socket) -> None:
        """Remember an open connection (closed by :meth:`stop`)."""
        with self._lock:
            self._connections.add(sock)

    def forget(self, sock: socket.socket) -> None:
        """Forget a connection that ended."""
        with self._lock:
            self._connections.discard(sock)

    def authenticate(self, sock: socket.socket) -> bool:
        """Run the HMAC challenge on a new connection; True when the client passed."""
        nonce = secrets.token_hex(16)
        write_frame(sock, {"hello": nonce})
        answer = read_frame(sock, MAX_HANDSHAKE_FRAME)
        given = answer.get("auth") if isinstance(answer, dict) else None
        passed = isinstance(given, str) and hmac.compare_digest(given, proof(self._secret, nonce))
        write_frame(sock, {"ok": passed})
        return passed

    def answer(self, request: Any) -> dict[str, Any]:
        """Run one request; the value (encoded) and ``last_error`` right after it."""
        if not isinstance(request, dict) or request.get("call") not in FUNCTIONS:
            name = request.get("call") if isinstance(request, dict) else None
            return {"error": f"not a MetaTrader5 function: {name!r}"}
        if request["call"] == "last_error":
            with self._lock:
                return {"value": list(self.module.last_error()), "last_error": None}
        args = decode(request.get("args", []))
        kwargs = decode(request.get("kwargs", {}))
        with self._lock:
            try:
                value = getattr(self.module, request["call"])(*args, **kwargs)
            except Exception as exc:  # the package raised (e.g. a wrong argument type)
                return {"error": f"{type(exc).__name__}: {exc}"}
            error = self.module.last_error()
        return {"value": encode(value), "last_error": list(error)}

    def constants(self) -> dict[str, Any]:
        """The package's upper-case constants and its version."""
        names = {n: getattr(self.module, n) for n in dir(self.module) if n.isupper()}
        values = {n: v for n, v in names.items() if isinstance(v, (int, float, str))}
        return {"constants": values, "version": getattr(self.module, "__version__", "")}


def _handler_for(bridge: BridgeServer) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            sock.settimeout(_HANDSHAKE_TIMEOUT_S)
            bridge.track(sock)
            try:
                if not bridge.authenticate(sock):
                    logger.warning(
                        "bridge: a client from %s failed the secret", self.client_address
                    )
                    return
                sock.settimeout(None)
                write_frame(sock, bridge.constants())
                while True:
                    write_frame(sock, bridge.answer(read_frame(sock)))
            except (OSError, ProtocolError, ValueError) as exc:
                logger.debug("bridge: connection from %s ended: %s", self.client_address, exc)
            finally:
                bridge.forget(sock)

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    """Start the server with the real MetaTrader5 package; returns an exit status."""
    parser = argparse.ArgumentParser(prog="python -m fks_exec_mt5.bridge.server")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=18812)
    args = parser.parse_args(argv)
    secret = os.environ.get(SECRET_VARIABLE, "")
    if len(secret) < 16:
        print(f"set {SECRET_VARIABLE} to a secret of 16+ characters", file=sys.stderr)
        return 2
    try:
        import MetaTrader5  # type: ignore[import-not-found]
    except ImportError:
        print("pip install MetaTrader5 in this (Windows) Python first", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO)
    server = BridgeServer(MetaTrader5, secret, args.host, args.port)
    logger.info("bridge serving MetaTrader5 on %s:%d", args.host, server.port)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
