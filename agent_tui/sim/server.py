"""A scripted Messages API on 127.0.0.1 that the real Claude Code CLI talks to.

It speaks the public streaming format (server-sent events), answers with text and
``tool_use`` blocks so the CLI really runs tools, and with HTTP errors shaped like the real
API's.  A request without streaming (the CLI's retry after a broken stream) gets JSON, as
from the real API.  It runs in a daemon thread so both asyncio code and plain tests can use
it.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from agent_tui.sim.errors import CREDITS_RAN_OUT, ERROR_REPLIES, ErrorReply
from agent_tui.sim.quota_headers import SendsQuotaHeaders, headers_for
from agent_tui.sim.reading import prompt_fields, prompt_text, tool_results
from agent_tui.sim.recorded import RecordedRequest
from agent_tui.sim.scenario import PlanEdit, Scenario, Script, Step, ToolCall
from agent_tui.sim.stream import message_events, message_json, sse

SIGNAL_WAIT_S = 60.0
"""The longest a step waits for its signal: past it the session gets an error, and the test
that expected the signal fails instead of hanging."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sim: SimServer) -> None:
        super().__init__(address, _Handler)
        self.sim = sim

    def handle_error(self, request, client_address) -> None:
        """A CLI killed or stopped mid-stream (the run interrupted) is no error of ours."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SimServer:
    """Serve ``scenario`` on 127.0.0.1; ``base_url`` goes into ``ANTHROPIC_BASE_URL``."""

    def __init__(self, scenario: Scenario, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.scenario = scenario
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._assigned: dict[str, tuple[Script | None, list[Step]]] = {}
        self._signals: dict[str, threading.Event] = {}
        self._session_counts: dict[int, int] = {}
        self._ids = itertools.count(1)
        self._httpd = _HTTPServer((host, port), self)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SimServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def signal(self, name: str) -> None:
        """Give signal ``name``: steps waiting for it answer now."""
        self._signal(name).set()

    def _signal(self, name: str) -> threading.Event:
        with self._lock:
            return self._signals.setdefault(name, threading.Event())

    def wait_for(self, name: str, timeout_s: float = SIGNAL_WAIT_S) -> bool:
        """Until signal ``name`` is given (or the sim stops); False when it timed out."""
        event = self._signal(name)
        deadline = time.monotonic() + timeout_s
        while not event.wait(0.05):
            if self._stopping.is_set() or time.monotonic() > deadline:
                return event.is_set()
        return True

    def requests_for(self, script_match: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.script == script_match]

    def _session_steps(self, session_id: str, prompt: str) -> tuple[Script | None, list[Step]]:
        with self._lock:
            if session_id not in self._assigned:
                script = self.scenario.script_for(prompt)
                if script is None:
                    self._assigned[session_id] = (None, [])
                else:
                    key = id(script)
                    index = self._session_counts.get(key, 0)
                    self._session_counts[key] = index + 1
                    steps = script.sessions[min(index, len(script.sessions) - 1)]
                    self._assigned[session_id] = (script, steps)
            return self._assigned[session_id]

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def next_tool_id(self) -> str:
        return f"toolu_sim_{next(self._ids):04d}"


def _fill(value: Any, fields: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in fields.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, fields) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, fields) for v in value]
    return value


def status_edit(plan_path: str, subtask_id: str, status: str) -> dict[str, str]:
    """The Edit a careful model would make to set one subtask's status in the plan file."""
    text = Path(plan_path).read_text(encoding="utf-8")
    id_match = re.search(r'"id"\s*:\s*"' + re.escape(subtask_id) + r'"', text)
    if not id_match:
        raise ValueError(f"subtask {subtask_id} not in {plan_path}")
    status_match = re.compile(r'"status"\s*:\s*"[a-z_]+"').search(text, id_match.end())
    if not status_match:
        raise ValueError(f"subtask {subtask_id} has no status in {plan_path}")
    old = text[id_match.start() : status_match.end()]
    new = old[: status_match.start() - id_match.start()] + f'"status": "{status}"'
    return {"file_path": plan_path, "old_string": old, "new_string": new}


def plan_edit(plan_path: str, edit: PlanEdit) -> dict[str, str]:
    """An Edit of the whole plan file that sets or merges top-level keys, as a model that
    rewrites the JSON would make."""
    text = Path(plan_path).read_text(encoding="utf-8")
    plan = json.loads(text)
    plan.update(edit.set)
    for key, values in edit.merge.items():
        plan[key] = {**(plan.get(key) or {}), **values}
    new = json.dumps(plan, indent=2) + ("\n" if text.endswith("\n") else "")
    return {"file_path": plan_path, "old_string": text, "new_string": new}


def _tool_input(call: ToolCall, fields: dict[str, str]) -> dict[str, Any]:
    if call.set_status:
        return status_edit(fields["plan"], call.set_status["subtask"], call.set_status["status"])
    if call.edit_plan:
        return plan_edit(fields["plan"], call.edit_plan)
    return _fill(call.input, fields)


def _reply(
    server: SimServer, step: Step, fields: dict[str, str]
) -> tuple[str, list[str] | None, list[tuple[str, str, dict[str, Any]]]]:
    """One assistant message's id, text (as streamed chunks) and tool calls."""
    message_id = f"msg_sim_{next(server._ids):04d}"  # before the tools': one counter
    words = re.findall(r"\S+\s*", _fill(step.text, fields)) if step.text else None
    tools = []
    for call in step.tools:
        tool_input = _tool_input(call, fields)
        tools.append((server.next_tool_id(), call.name, tool_input))
    return message_id, words, tools


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return ErrorReply(0, error_type, message).body()


class _Handler(SendsQuotaHeaders, BaseHTTPRequestHandler):
    """One request from the CLI; the scripted sim it answers for is ``self.server.sim``."""

    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the CLI's requests are recorded in ``SimServer.requests`` instead."""

    def _json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("request-id", "req_sim")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._json(404, _error_body("not_found_error", "no such route"))

    def do_POST(self) -> None:
        self.quota_headers = {}  # a connection kept alive: the last reply's are not this one's
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._json(400, _error_body("invalid_request_error", "bad json"))
            return
        if path.endswith("/count_tokens"):
            self._json(200, {"input_tokens": len(raw) // 4})
            return
        if path != "/v1/messages":
            self.do_GET()
            return
        self._messages(body, len(raw))

    def _messages(self, body: dict[str, Any], size: int) -> None:
        sim = self.server.sim
        prompt = prompt_text(body)
        turn = sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")
        script, step = self._step(body, prompt, turn)
        streamed = bool(body.get("stream"))
        if not streamed and step.fault and step.fallback:
            step = Step(error=step.fallback, quota=step.quota)
        error = ERROR_REPLIES[step.error] if step.error else None
        status = error.status if error else 200
        self.quota_headers = headers_for(step.quota or sim.scenario.quota)
        sim._record(
            RecordedRequest(
                session_id=self.headers.get("x-claude-code-session-id"),
                script=script.match if script else None,
                turn=turn,
                authorization=self.headers.get("authorization"),
                api_key=self.headers.get("x-api-key"),
                model=body.get("model"),
                status=status,
                prompt=prompt,
                tool_results=tool_results(body),
                streamed=streamed,
            )
        )
        if step.signal is not None:
            sim.signal(step.signal)
        if step.wait_for is not None and not sim.wait_for(step.wait_for):
            message = f"the sim waited {SIGNAL_WAIT_S:g} s for signal {step.wait_for!r}"
            self._json(400, _error_body("invalid_request_error", message))
            return
        if step.delay_s:
            sim._stopping.wait(step.delay_s)
        if error is not None:
            n = str(max(1, len(body.get("messages", [])) - 1))
            self._json(error.status, error.body(error.message.replace("{n}", n)), error.headers)
            return
        model = body.get("model") or "claude-sim"
        if step.fault:
            self._fault(step.fault, streamed, model, size // 16)
            return
        message_id, words, tools = _reply(sim, step, prompt_fields(prompt))
        if streamed:
            self._stream(message_events(message_id, model, size // 16, words, tools))
        else:
            self._json(200, message_json(message_id, model, size // 16, words, tools))

    def _step(self, body: dict[str, Any], prompt: str, turn: int) -> tuple[Script | None, Step]:
        """The scripted step for this turn of its session; side requests (no tools offered,
        such as a title) and unscripted sessions get the fallback text."""
        sim = self.server.sim
        session_id = self.headers.get("x-claude-code-session-id")
        script, steps = (None, [])
        if session_id and body.get("tools"):
            script, steps = sim._session_steps(session_id, prompt)
        if not steps:
            return script, Step(text=sim.scenario.fallback_text)
        return script, steps[min(turn, len(steps) - 1)]

    def _stream(self, events: list[bytes]) -> None:
        sim = self.server.sim
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for event in events:
            if sim.scenario.pace_s and not sim._stopping.is_set():
                time.sleep(sim.scenario.pace_s)
            self._chunk(event)
        self._chunk(b"")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _fault(self, fault: str, streamed: bool, model: str, prompt_tokens: int) -> None:
        if fault == "credits_ran_out" and not streamed:
            self._json(CREDITS_RAN_OUT.status, CREDITS_RAN_OUT.body())
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream" if streamed else "application/json")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        if fault == "credits_ran_out":
            begun = message_events("msg_sim_cut", model, prompt_tokens, ["Working "], [])
            for event in begun[:3]:  # message_start, the text block's start and one delta
                self._chunk(event)
            self._chunk(sse("error", CREDITS_RAN_OUT.body()))
            self._chunk(b"")
        elif fault == "malformed":
            self._chunk(b"event: message_start\ndata: {this is not json\n\n")
            self._chunk(b"")
        elif fault == "drop":
            self._chunk(b'event: message_start\ndata: {"type": "message_start"')
            self.close_connection = True
        else:
            self.server.sim._stopping.wait()
            self.close_connection = True
