"""textual-serve behind a token: every request (the page, its static files, the app's
websocket) without it is refused.

The printed URL carries the token as ``?token=``; the page's answer sets it as an
``HttpOnly``, ``SameSite=Strict`` cookie, which the page's own requests then carry (its
script builds the websocket's URL itself, so a token in it would not survive).  A
websocket from another origin is refused too.  The token lives only in this process's
memory: the app processes textual-serve starts for each browser tab inherit this
process's environment, and never see it.

Each tab gets an app process of its own (``agent-tui attach``: the runs list); closing
the server closes their websockets, and textual-serve tells each app to quit.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import secrets
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.server import Server

TEMPLATES = Path(__file__).with_name("templates")
FORBIDDEN = "403: this server needs the token from the URL it printed\n"
TLS_WARNING = (
    "agent-tui: serving on {host} over plain HTTP: the token and the page cross the network "
    "readable. Put it behind TLS: an SSH tunnel (ssh -L 8765:127.0.0.1:8765 host, with the "
    "default --host) or a reverse proxy that terminates TLS."
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TokenServer(Server):
    def __init__(self, command: str, *, host: str, port: int, token: str | None = None) -> None:
        super().__init__(command, host=host, port=port, title="agent-tui", templates_path=TEMPLATES)
        self.token = token or secrets.token_urlsafe(24)
        self.bound_port: int | None = None
        self._sockets: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None

    @property
    def cookie(self) -> str:
        """Named by port: cookies are kept per host, and two servers may share one."""
        return f"agent_tui_token_{self.bound_port}"

    @property
    def url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.bound_port}/?token={self.token}"

    def _has_token(self, request: web.Request) -> bool:
        given = request.query.get("token") or request.cookies.get(self.cookie) or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not self._has_token(request):
            raise web.HTTPForbidden(text=FORBIDDEN)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            origin = request.headers.get("Origin")
            if origin is not None and origin.split("://", 1)[-1] != request.host:
                raise web.HTTPForbidden(text="403: a websocket from another origin\n")
            task = asyncio.current_task()
            assert task is not None
            self._sockets.add(task)
            try:
                return await handler(request)
            finally:
                self._sockets.discard(task)
        response = await handler(request)
        if "token" in request.query:
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict")
        if request.match_info.route.name == "index":  # its URL holds the token
            response.headers["Cache-Control"] = "no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Nothing printed: the URL is printed once the port is known."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Close the open websockets (each app is told to quit), or aiohttp waits a minute."""
        tasks = list(self._sockets)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)

    async def start(self) -> None:
        """Listen; ``bound_port`` and ``url`` are known from here on."""
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.create_server((self.host, self.port), family=family)
        self.bound_port = listener.getsockname()[1]
        self._runner = web.AppRunner(await self._make_app(), handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def serve(command: str, *, host: str, port: int, out: Any = None) -> int:
    """Serve ``command`` until SIGINT or SIGTERM; the URL (with the token) goes to ``out``."""
    out = out or sys.stdout
    server = TokenServer(command, host=host, port=port)
    await server.start()
    if not is_loopback(host):
        print(TLS_WARNING.format(host=host), file=sys.stderr, flush=True)
    print(f"agent-tui: serving the runs on {server.url}", file=out, flush=True)
    print("agent-tui: ctrl+c stops serving (the runs go on)", file=out, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0
