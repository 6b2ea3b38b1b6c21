"""A spec dir that cannot be written: refused before a session, or a clean stop that says
where the session is recorded.  ``chattr +i`` makes a directory read-only even for root."""

from __future__ import annotations

import json
import subprocess
from contextlib import contextmanager

import pytest

from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.events import core as ev
from tests.unit.loop_harness import ScriptedSessions, make_setup, of


@pytest.fixture
def setup(tmp_path):
    return make_setup(tmp_path)


@contextmanager
def immutable(path):
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("where", ["", "memory"])
async def test_a_spec_dir_that_cannot_be_written_is_refused_before_any_session(setup, where):
    target = setup.spec_dir / where if where else setup.spec_dir
    target.mkdir(exist_ok=True)
    loop, sessions = setup()
    with immutable(target):
        assert await loop.run() == 2
    assert sessions.specs == []
    finished = of(setup.events, ev.LoopFinished)[0]
    assert finished.message.startswith(f"cannot write in {target} (")
    assert "Operation not permitted" in finished.message


async def test_a_history_that_cannot_be_written_after_a_session_stops_the_run_cleanly(setup):
    memory = setup.spec_dir / "memory"
    memory.mkdir()
    held = []

    def completes_then_memory_goes_read_only(spec, n):
        outcome = ScriptedSessions.complete(sessions, spec, n)
        held.append(immutable(memory))
        held[-1].__enter__()
        return outcome

    loop, sessions = setup(completes_then_memory_goes_read_only)
    try:
        assert await loop.run() == 3
    finally:
        for lock in held:
            lock.__exit__(None, None, None)
    assert len(sessions.specs) == 1
    finished = of(setup.events, ev.LoopFinished)[0]
    assert finished.outcome == "stopped"
    assert "attempt_history.json (Operation not permitted): the run stopped" in finished.message
    assert "session 1 is recorded in logs/session-001.jsonl" in finished.message
    plan = json.loads((setup.spec_dir / "implementation_plan.json").read_text())
    assert plan["phases"][0]["subtasks"][0]["status"] == "completed"  # not lost


async def test_a_plan_that_cannot_be_written_stops_the_run_with_the_reason(setup, monkeypatch):
    from agent_tui.engine.progress import tracker as plan_tracker

    def disk_full(path, text, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plan_tracker, "atomic_write_text", disk_full)
    loop, sessions = setup(lambda spec, n: SessionOutcome(outcome="success"))
    assert await loop.run() == 3
    assert sessions.specs == []
    finished = of(setup.events, ev.LoopFinished)[0]
    assert "implementation_plan.json (No space left on device): the run stopped" in (
        finished.message
    )


async def test_a_plan_that_cannot_be_set_right_during_a_session_ends_the_run(setup, monkeypatch):
    """The agent breaks the plan mid-session and the good one cannot be put back: the run
    ends there (no backoff, no second session), and the session is still recorded."""
    from claude_agent_sdk import ToolResultBlock, UserMessage

    from agent_tui.engine.agents.claude.session import ClaudeSession
    from agent_tui.engine.progress import tracker as plan_tracker

    plan_path = setup.spec_dir / "implementation_plan.json"

    class AgentBreaksThePlan:
        def __init__(self, options) -> None:
            pass

        async def __aenter__(self):
            return self

        async def __aexit__(self, *exc) -> bool:
            return False

        async def query(self, prompt: str) -> None:
            pass

        async def receive_response(self):
            plan_path.write_text("{ not a plan")
            yield UserMessage(content=[ToolResultBlock(tool_use_id="t1", content="ok")])
            yield UserMessage(content=[ToolResultBlock(tool_use_id="t2", content="ok")])

    loop, _ = setup()
    started: list[object] = []

    def real_session(spec, emit, clock):
        started.append(spec)
        if len(started) == 1:  # the plan was read and 1.1 marked in progress: now disk full
            monkeypatch.setattr(plan_tracker, "atomic_write_text", disk_full)
        return ClaudeSession(spec, emit, clock, client_factory=AgentBreaksThePlan)

    def disk_full(path, text, **kwargs):
        raise OSError(28, "No space left on device")

    loop.runner._factory = real_session
    assert await loop.run() == 3
    assert len(started) == 1
    assert not of(setup.events, ev.BackoffStarted)
    assert len(of(setup.events, ev.ToolResult)) == 1  # the stream stopped at the first
    finished = of(setup.events, ev.LoopFinished)[0]
    assert finished.outcome == "stopped"
    assert "implementation_plan.json (No space left on device): the run stopped" in (
        finished.message
    )
    [ended] = of(setup.events, ev.SessionEnded)
    assert ended.outcome == "interrupted" and "the run stopped" in ended.message
    lines = (setup.spec_dir / "logs" / "session-001.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    assert last["type"] == "outcome", last
