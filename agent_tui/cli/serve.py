"""``agent-tui serve``: the runs on this machine in a browser, behind a token.

The parser is built on every start (argparse only at the top); the server (textual-serve,
aiohttp) loads only when it runs.  Exit codes: 0 stopped (ctrl+c); 2 the address cannot be
had (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys

from agent_tui.cli.args import given
from agent_tui.exit_codes import InputError

DEFAULT_PORT = 8765


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be 0 to 65535 (0: any free port)")
    return value


def add_serve_parser(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="the runs list and the runs in a browser, behind a token",
        description="Serve the app (the runs list, then the run chosen) to a browser. It "
        "prints a URL with a random token; every request without it is refused. It listens "
        "on 127.0.0.1 unless --host says otherwise: any other address is plain HTTP on the "
        "network, so put it behind TLS (an ssh -L tunnel or a reverse proxy).",
    )
    serve.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        metavar="P",
        help=f"the port (default {DEFAULT_PORT}; 0: any free one)",
    )
    serve.add_argument(
        "--host", type=given, default="127.0.0.1", metavar="H", help="the address to listen on"
    )


def run_serve(args: argparse.Namespace) -> int:
    import asyncio
    import shlex

    from agent_tui.serve.web import serve

    command = shlex.join([sys.executable, "-m", "agent_tui.cli", "attach"])
    try:
        return asyncio.run(serve(command, host=args.host, port=args.port))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot listen on {args.host} port {args.port}: {reason}") from None
