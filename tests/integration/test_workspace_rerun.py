"""A second run on a git repository, through the real CLI and the sim: what an earlier run
left in the worktree's spec copy is not taken as the agent's work of this run."""

from __future__ import annotations

import pytest

from agent_tui.engine.control.result import RunOutcome
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import trust as tev
from tests.integration.git_repo import git
from tests.integration.helpers import plan_doc, script

pytestmark = pytest.mark.integration

CLAIM_ONLY = [
    {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
    {"tools": [{"name": "Edit", "set_status": {"subtask": "1.1", "status": "completed"}}]},
    {"text": "Subtask 1.1 is complete."},
]
"""A session that marks its subtask completed without doing the work."""


def committed_project(run) -> None:
    (run.project / "app.py").write_text("print('hello')\n")
    (run.project / ".gitignore").write_text(".auto-claude/\n")
    git(run.project, "init", "--quiet", "--initial-branch=main")
    git(run.project, "add", "--all")
    git(run.project, "commit", "--quiet", "-m", "start")


async def test_a_claim_its_check_refused_is_not_taken_back_by_the_next_run(make_run):
    plan = plan_doc([("1", [], ["1.1"])])
    plan["phases"][0]["subtasks"][0]["verification"] = {
        "type": "command",
        "command": "cat out_1_1.txt",
        "expected": "1.1",
    }
    run = make_run(plan, [script("1.1", [CLAIM_ONLY])], max_attempts=1)
    committed_project(run)
    await run.go()
    assert run.exit_code == 3 and run.statuses() == {"1.1": "failed"}
    assert [e.outcome for e in run.of(tev.VerificationEnded)] == [tev.CheckOutcome.FAILED]

    run.events.clear()
    await run.go()  # the same command again: the worktree's copy still says "completed"
    [finished] = run.of(ev.LoopFinished)
    assert finished.outcome == RunOutcome.STUCK, finished
    assert run.exit_code == 3 and run.statuses() == {"1.1": "failed"}
    assert run.of(ev.SessionStarted) == [] and run.of(tev.VerificationEnded) == []
