"""A runaway session through the real CLI: the same Bash call over and over is interrupted
at the threshold (the CLI runs no more of it), counts as a failed try, and the subtask's
next prompt says why; a session that makes progress between the same calls is left alone."""

from __future__ import annotations

from agent_tui.engine.events import core as ev
from tests.integration.helpers import coder_steps, plan_doc, script

SAME_BASH = {"tools": [{"name": "Bash", "input": {"command": "ls", "description": "list"}}]}


async def test_the_same_bash_call_20_times_is_interrupted_and_the_retry_is_told_why(make_run):
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [[SAME_BASH] * 20 + [{"text": "never"}], coder_steps("1.1")])],
    )
    await run.go()

    assert run.exit_code == 0
    first, second = run.of(ev.SessionEnded)
    assert (first.outcome, first.error_kind) == ("error", "runaway")
    assert first.message == (
        "runaway: it made the same Bash call 8 times (ls) with no other file changed"
    )
    first_session = [r for r in run.sim.requests if r.session_id == run.sim.requests[0].session_id]
    assert len(first_session) == 8  # stopped there: 12 more turns never billed
    assert len([e for e in run.of(ev.ToolResult) if e.session == 1]) <= 8
    assert second.outcome == "success" and run.statuses() == {"1.1": "completed"}
    retry = [r for r in run.sim.requests if r.session_id != first_session[0].session_id]
    told = "agent-tui stopped the last session for this subtask because it made the same Bash"
    assert f"{told} call 8 times (ls) with no other file changed." in retry[0].prompt
    [attempt, _] = run.loop.history.attempts("1.1")
    assert (attempt["outcome"], attempt["error_kind"]) == ("error", "runaway")
    assert [b.kind for b in run.of(ev.BackoffStarted)] == ["runaway"]


async def test_the_same_call_after_each_edit_is_progress_not_a_runaway(make_run):
    steps = []
    for n in range(4):
        steps.append(SAME_BASH)
        steps.append(
            {
                "tools": [
                    {
                        "name": "Write",
                        "input": {"file_path": "{project}/step.txt", "content": f"{n}\n"},
                    }
                ]
            }
        )
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [steps + coder_steps("1.1")])],
        runaway_repeats=3,
    )
    await run.go()

    assert run.exit_code == 0  # the same ls 4 times, past the 3 allowed, each after a write
    assert [e.error_kind for e in run.of(ev.SessionEnded)] == [None]
