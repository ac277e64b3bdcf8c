"""Run the reference ATI server in its own process (for crash and restart tests).

``python -m fks_exec_ninja.testing.reference --port 0 [--greeting ati|withheld|close]
[--repush all|none|delayed] [--push-order STATUS_FILLED_AVG|...] [--repetition
changed|all] [--fill-pieces N] [--preexisting-orders N] [--unknown-messages]``

The first line written to standard output is the bound port number; the server runs
until SIGINT or SIGTERM (or its standard input closes, with ``--stdin-eof-stops``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading

from .server import ReferenceAtiServer
from .settings import Greeting, PushOrder, Repetition, Repush, ServerSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fks_exec_ninja.testing.reference")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--greeting", choices=[g.value for g in Greeting], default="ati")
    parser.add_argument("--repush", choices=[r.value for r in Repush], default="all")
    parser.add_argument(
        "--push-order",
        choices=[p.name for p in PushOrder],
        default=PushOrder.STATUS_FILLED_AVG.name,
    )
    parser.add_argument(
        "--repetition", choices=[r.value for r in Repetition], default=Repetition.CHANGED_ONLY.value
    )
    parser.add_argument("--fill-pieces", type=int, default=1)
    parser.add_argument("--preexisting-orders", type=int, default=0)
    parser.add_argument("--unknown-messages", action="store_true")
    parser.add_argument(
        "--stdin-eof-stops",
        action="store_true",
        help="stop when standard input closes (the parent died)",
    )
    return parser


def settings_from(args: argparse.Namespace) -> ServerSettings:
    """The :class:`ServerSettings` the command line asks for; ``ValueError`` if invalid."""
    return ServerSettings(
        greeting=Greeting(args.greeting),
        repush=Repush(args.repush),
        push_order=PushOrder[args.push_order],
        repetition=Repetition(args.repetition),
        fill_pieces=args.fill_pieces,
        preexisting_orders=args.preexisting_orders,
        unknown_messages=args.unknown_messages,
    )


async def _serve(args: argparse.Namespace) -> None:
    server = ReferenceAtiServer(settings_from(args), host=args.host, port=args.port)
    await server.start()
    print(server.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    if args.stdin_eof_stops:

        def watch_stdin() -> None:
            sys.stdin.read()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, name="stdin-eof", daemon=True).start()
    await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, serve until told to stop; returns the exit status."""
    asyncio.run(_serve(_parser().parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
