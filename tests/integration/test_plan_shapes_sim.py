"""Every plan shape upstream's planners write loads and runs to completion through the real
CLI and the sim, its checks run, and the file keeps its own shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import CheckOutcome

pytestmark = pytest.mark.integration


def completes(subtask_id: str) -> dict[str, Any]:
    """A session that does its subtask's work and marks it completed, in whatever shape
    the plan is: agent-tui has set the one subtask it works on to in_progress."""
    name = f"out_{subtask_id}.txt"
    return {
        "match": rf"Subtask ID: {subtask_id.replace('.', chr(92) + '.')}\n",
        "sessions": [
            [
                {
                    "tools": [
                        {
                            "name": "Write",
                            "input": {"file_path": "{project}/" + name, "content": subtask_id},
                        }
                    ]
                },
                {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
                {
                    "tools": [
                        {
                            "name": "Edit",
                            "input": {
                                "file_path": "{plan}",
                                "old_string": '"status": "in_progress"',
                                "new_string": '"status": "completed"',
                            },
                        }
                    ]
                },
                {"text": f"Done with {subtask_id}."},
            ]
        ],
    }


def check(subtask_id: str) -> dict[str, Any]:
    return {"type": "command", "command": f"cat out_{subtask_id}.txt", "expected": subtask_id}


SHAPES: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {
    "phase_id, title, subtask_id and not_started": (
        {
            "phases": [
                {
                    "phase_id": "1",
                    "title": "Setup",
                    "subtasks": [
                        {
                            "subtask_id": "1.1",
                            "title": "Make it",
                            "status": "not_started",
                            "verification": check("1.1"),
                        }
                    ],
                }
            ]
        },
        ["1.1"],
        ["read phase_id as the phase id", "read subtask_id as the subtask id"],
    ),
    "a numeric phase, numeric ids and mixed depends_on": (
        {
            "phases": [
                {
                    "phase": 1,
                    "name": "One",
                    "subtasks": [
                        {"id": 1, "description": "first", "status": "pending"},
                    ],
                },
                {
                    "phase": 2,
                    "name": "Two",
                    "depends_on": [1, "1"],
                    "subtasks": [
                        {
                            "id": "2.1",
                            "description": "",
                            "title": "second",
                            "status": "todo",
                            "verification": check("2.1"),
                        }
                    ],
                },
            ]
        },
        ["1", "2.1"],
        ["read phase as the phase id", "read title as the subtask description"],
    ),
    "a flat subtasks list with a run / expect_status check": (
        {
            "feature": "flat",
            "subtasks": [
                {
                    "id": "a",
                    "description": "alpha",
                    "status": "pending",
                    "verification": {"run": "test -f out_a.txt", "expect_status": 0},
                }
            ],
        },
        ["a"],
        ["read a flat subtasks list as one phase", "read a run / expect_status verification"],
    ),
    "chunks for subtasks": (
        {
            "phases": [
                {
                    "id": "p",
                    "name": "Chunks",
                    "chunks": [
                        {
                            "id": "c1",
                            "description": "chunk",
                            "status": "pending",
                            "verification": check("c1"),
                        }
                    ],
                }
            ]
        },
        ["c1"],
        ["read chunks as subtasks"],
    ),
}


@pytest.mark.parametrize(("plan", "ids", "notes"), SHAPES.values(), ids=SHAPES.keys())
async def test_each_upstream_shape_runs_to_completion_in_its_own_shape(make_run, plan, ids, notes):
    run = make_run(plan, [completes(subtask_id) for subtask_id in ids])
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    assert not [e for e in run.of(ev.SessionError) if e.error_kind == "runaway"]  # on, silent
    said = " ".join(e.message for e in run.of(ev.Notice))
    for note in notes:
        assert note in said
    written = (run.spec_dir / "implementation_plan.json").read_text()
    as_written = json.loads(written)
    legacy = json.dumps(plan)
    expected = legacy
    for status in ("not_started", "todo", "pending"):
        expected = expected.replace(f'"status": "{status}"', '"status": "completed"')
    assert as_written == json.loads(expected)  # every key as it came, statuses completed
    checked = {e.subtask_id: e.outcome for e in run.of(tev.VerificationEnded)}
    for subtask_id in ids:
        has_check = f"out_{subtask_id}.txt" in legacy
        assert checked[subtask_id] == (CheckOutcome.PASSED if has_check else "unverified")
