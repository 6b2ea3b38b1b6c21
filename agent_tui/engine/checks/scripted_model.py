"""A Messages API on 127.0.0.1 that answers each check with one Bash call: the "model" of
the CLI sessions that run checks.

Claude Code's sandbox applies to its Bash tool and nothing else, so a command gets exactly
the agent's confinement (the same bubblewrap or Seatbelt policy, network proxy, read denies
and unset credentials) by being run as that tool.  A check session's prompt names a check
(``check <nonce>``); the answer to it is one ``Bash`` call with the input registered for
that nonce, and the answer to the call's result is a short text that ends the turn.  No
model and no account is involved.

It runs on the event loop (``asyncio`` streams), so nothing waits on a thread to start or
stop it.  The answer is decided by the request alone and the inputs agent-tui registered,
and a request without this server's own key is refused: another process that reaches the
port learns nothing and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
from typing import Any

from agent_tui.sim.stream import message_events

PROMPT = "Run agent-tui's check {nonce}."
NONCE = re.compile(r"\bagent-tui-[0-9a-f]{16}\b")
"""How a check is named: ``new_nonce``'s form."""
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
"""A check session's whole conversation: it is started afresh long before this."""
READ_TIMEOUT_S = 60.0
"""An idle keep-alive connection is closed after this (the CLI opens another)."""


def new_nonce() -> str:
    return "agent-tui-" + secrets.token_hex(8)


def tool_use_id(nonce: str) -> str:
    return "toolu_" + nonce.replace("-", "_")


class ScriptedModel:
    """``await model.start()``; point a CLI at ``base_url`` with ``api_key``; ``expect`` a
    check's Bash input before its prompt is sent; ``await model.close()``."""

    def __init__(self) -> None:
        self.api_key = "agent-tui-check-" + secrets.token_hex(16)
        self._calls: dict[str, dict[str, Any]] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._replies = itertools.count(1)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> ScriptedModel:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        """Stop listening and end every open connection (without waiting on a thread)."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._connections):
            writer.close()
        self._connections.clear()

    def expect(self, nonce: str, bash_input: dict[str, Any]) -> None:
        self._calls[nonce] = bash_input

    def forget(self, nonce: str) -> None:
        self._calls.pop(nonce, None)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while await self._answer_one(reader, writer):
                pass
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _answer_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; False when the connection is over."""
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
        if len(head) > MAX_HEADER_BYTES:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.partition(" ")[0].split("?", 1)[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            await _send(writer, 413, "application/json", _error("request_too_large"))
            return False
        raw = await reader.readexactly(length) if length else b""
        if not secrets.compare_digest(headers.get("x-api-key", ""), self.api_key):
            await _send(writer, 401, "application/json", _error("authentication_error"))
        elif method == "POST" and path.endswith("/count_tokens"):
            await _send(writer, 200, "application/json", json.dumps({"input_tokens": 1}).encode())
        elif method == "POST" and path == "/v1/messages":
            await _send(writer, 200, "text/event-stream", self._reply(raw))
        else:
            await _send(writer, 404, "application/json", _error("not_found_error"))
        return headers.get("connection", "").lower() != "close"

    def _reply(self, raw: bytes) -> bytes:
        """A Bash call for a prompt that names a registered check; else "Done."."""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        model = str(body.get("model") or "agent-tui-check") if isinstance(body, dict) else ""
        nonce = _asked(body) if isinstance(body, dict) and body.get("tools") else None
        call = self._calls.get(nonce) if nonce is not None else None
        tools = [(tool_use_id(nonce), "Bash", call)] if nonce is not None and call else []
        text = None if tools else ["Done."]
        message_id = f"msg_agent_tui_{next(self._replies)}"  # the CLI joins equal ids
        return b"".join(message_events(message_id, model or "-", 1, text, tools))


def _asked(body: dict[str, Any]) -> str | None:
    """The check the conversation's last turn asks for: a prompt of ours, not the result of
    a call (that turn is over).  The CLI may put messages of its own (role ``system``)
    after the prompt."""
    messages = body.get("messages")
    turns = [
        m
        for m in (messages if isinstance(messages, list) else [])
        if isinstance(m, dict) and m.get("role") in ("user", "assistant")
    ]
    if not turns or turns[-1].get("role") != "user":
        return None
    content = turns[-1].get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    if not isinstance(blocks, list):
        return None
    asked = None
    for block in blocks:  # a prompt after a call's result (the CLI may join the two)
        if not isinstance(block, dict) or block.get("type") == "tool_result":
            asked = None
        elif block.get("type") == "text":
            found = NONCE.findall(str(block.get("text") or ""))
            asked = found[-1] if found else asked
    return asked


def _error(kind: str) -> bytes:
    return json.dumps({"type": "error", "error": {"type": kind, "message": kind}}).encode()


async def _send(writer: asyncio.StreamWriter, status: int, kind: str, data: bytes) -> None:
    reason = {200: "OK", 401: "Unauthorized", 404: "Not Found", 413: "Too Large"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {kind}\r\ncontent-length: {len(data)}\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + data)
    with contextlib.suppress(ConnectionError):
        await writer.drain()
