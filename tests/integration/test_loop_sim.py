"""The coder loop end to end: real SDK, real bundled CLI, scripted model on 127.0.0.1."""

from __future__ import annotations

import json

from agent_tui.engine.events import core as ev
from tests.integration.helpers import coder_steps, plan_doc, script

CONCURRENCY_400 = {"error": "tool_concurrency"}


async def test_three_subtasks_complete_end_to_end(make_run):
    plan = plan_doc([("1", [], ["1.1", "1.2"]), ("2", ["1"], ["2.1"])])
    run = make_run(plan, [script(s, [coder_steps(s)]) for s in ("1.1", "1.2", "2.1")])
    await run.go()

    assert run.exit_code == 0
    assert run.statuses() == {"1.1": "completed", "1.2": "completed", "2.1": "completed"}
    assert run.plan["x_custom"] == {"kept": True}
    for sid in ("1.1", "1.2", "2.1"):
        assert (run.project / f"out_{sid.replace('.', '_')}.txt").read_text() == sid + "\n"
    started = run.of(ev.SessionStarted)
    assert [s.subtask_id for s in started] == ["1.1", "1.2", "2.1"]
    assert all(s.profile == "test" for s in started)
    assert [e.name for e in run.of(ev.ToolUse)][:3] == ["Write", "Read", "Edit"]
    finished = run.of(ev.LoopFinished)
    assert finished[-1].outcome == "complete"
    transcripts = sorted((run.spec_dir / "logs").glob("session-*.jsonl"))
    assert [t.name for t in transcripts] == [f"session-00{i}.jsonl" for i in (1, 2, 3)]
    lines = [json.loads(line) for line in transcripts[0].read_text().splitlines()]
    assert lines[0]["type"] == "prompt" and lines[-1]["type"] == "outcome"
    # The agent's claim on its own subtask shows as completed only once agent-tui has
    # confirmed it (here: no check to run), after the session.
    order = [type(e).__name__ for e in run.events]
    first_done = next(
        i
        for i, e in enumerate(run.events)
        if isinstance(e, ev.SubtaskStatus) and e.status == "completed"
    )
    assert first_done > order.index("SessionEnded")


async def test_two_concurrency_errors_back_off_2_then_4_seconds(make_run):
    plan = plan_doc([("1", [], ["1.1"])])
    burst = [CONCURRENCY_400]
    run = make_run(plan, [script("1.1", [burst, burst, coder_steps("1.1")])])
    await run.go()

    assert run.exit_code == 0
    backoffs = run.of(ev.BackoffStarted)
    assert [(b.kind, b.delay_s, b.retry, b.max_retries) for b in backoffs] == [
        ("tool_concurrency", 2.0, 1, 5),
        ("tool_concurrency", 4.0, 2, 5),
    ]
    ended = run.of(ev.SessionEnded)
    assert [e.error_kind for e in ended] == ["tool_concurrency", "tool_concurrency", None]
    assert run.clock.slept == [2.0, 4.0]
    # The session after a concurrency error is told to use one tool at a time.
    prompts = [
        json.loads(p.read_text().splitlines()[0])["data"]["text"]
        for p in sorted((run.spec_dir / "logs").glob("session-*.jsonl"))
    ]
    assert "ONE tool at a time" not in prompts[0]
    assert "ONE tool at a time" in prompts[1] and "ONE tool at a time" in prompts[2]


async def test_exhausted_concurrency_retries_mark_the_subtask_stuck(make_run):
    plan = plan_doc([("1", [], ["1.1", "1.2"])])
    run = make_run(plan, [script("1.1", [[CONCURRENCY_400]]), script("1.2", [coder_steps("1.2")])])
    await run.go()

    assert run.exit_code == 3
    assert [b.delay_s for b in run.of(ev.BackoffStarted)] == [2.0, 4.0, 8.0, 16.0, 32.0]
    stuck = run.of(ev.SubtaskStuck)
    assert [s.id for s in stuck] == ["1.1"]
    assert run.of(ev.LoopFinished)[-1].outcome == "stuck"
    assert len(run.of(ev.SessionStarted)) == 6
    history = json.loads((run.spec_dir / "memory" / "attempt_history.json").read_text())
    assert [s["subtask_id"] for s in history["stuck_subtasks"]] == ["1.1"]
    assert run.statuses()["1.2"] == "pending"


async def test_planner_writes_the_missing_plan_then_coders_run(make_run):
    plan = plan_doc([("1", [], ["1.1"])])
    planner = [
        {
            "text": "Writing the plan.",
            "tools": [{"name": "Write", "input": {"file_path": "{plan}", "content": "{ not json"}}],
        },
        {"text": "Plan written."},
    ]
    planner_fixed = [
        {"text": "Fixing the plan.", "tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
        {
            "tools": [
                {"name": "Write", "input": {"file_path": "{plan}", "content": json.dumps(plan)}}
            ]
        },
        {"text": "Plan fixed."},
    ]
    scripts = [
        {"match": "Role: planner", "sessions": [planner, planner_fixed]},
        script("1.1", [coder_steps("1.1")]),
    ]
    run = make_run(None, scripts)
    await run.go()

    assert run.exit_code == 0
    kinds = [s.kind for s in run.of(ev.SessionStarted)]
    assert kinds == ["planner", "planner", "coder"]
    second_prompt = json.loads(
        (run.spec_dir / "logs" / "session-002.jsonl").read_text().splitlines()[0]
    )["data"]["text"]
    assert "previous plan was rejected" in second_prompt
    assert run.statuses() == {"1.1": "completed"}
