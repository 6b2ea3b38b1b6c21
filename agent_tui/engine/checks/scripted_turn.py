"""A one-call Messages API on 127.0.0.1: the "model" of a CLI session that only runs a check.

Claude Code's sandbox applies to its Bash tool and nothing else, so a command gets exactly
the agent's confinement (the same bubblewrap or Seatbelt policy, network proxy, read denies
and unset credentials) by being run as that tool.  This server answers the session's first
request with one ``Bash`` call and every later one with a short text that ends the turn;
no model and no account is involved.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agent_tui.sim.stream import message_events

TOOL_USE_ID = "toolu_agent_tui_check"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tool_input: dict[str, Any]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tool_input = tool_input


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: what the check did is read from the CLI's own output."""

    def do_GET(self) -> None:
        self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": "-"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {}
        path = self.path.split("?", 1)[0]
        if path.endswith("/count_tokens"):
            self._json(200, {"input_tokens": len(raw) // 4})
            return
        if path != "/v1/messages":
            self.do_GET()
            return
        answered = any(m.get("role") == "assistant" for m in body.get("messages") or [])
        tools = []
        if body.get("tools") and not answered:
            tools = [(TOOL_USE_ID, "Bash", self.server.tool_input)]
        text = None if tools else ["Done."]
        model = str(body.get("model") or "agent-tui-check")
        self._stream(message_events("msg_agent_tui_check", model, 1, text, tools))

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, events: list[bytes]) -> None:
        data = b"".join(events)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ScriptedTurn:
    """``with ScriptedTurn(bash_input) as turn:`` point the CLI at ``turn.base_url``."""

    def __init__(self, bash_input: dict[str, Any]) -> None:
        self._server = _Server(bash_input)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ScriptedTurn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
