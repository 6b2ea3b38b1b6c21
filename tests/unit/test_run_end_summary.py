"""What the terminal keeps once the app has gone: how the run ended and what to do next."""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import sys
from pathlib import Path

from agent_tui.cli.plan_review import RunEnd
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.workspace import WorkspaceStatus


def ended(*events: ev.Event) -> RunEnd:
    """A ``RunEnd`` that watched a loop which sent ``events``."""
    end = RunEnd()
    seen: list[ev.Event] = []

    async def sink(event: ev.Event) -> None:
        seen.append(event)

    def make_loop(noting):
        async def run() -> None:
            for event in events:
                await noting(event)

        return run()

    asyncio.run(end.watching(make_loop)(sink))
    assert seen == list(events)  # noted on the way, every event passed on
    return end


def finished(outcome: str, message: str, code: int = 0) -> ev.LoopFinished:
    return ev.LoopFinished(outcome=outcome, exit_code=code, message=message)


def worktree(branch: str = "agent-tui/001-x") -> WorkspaceStatus:
    return WorkspaceStatus(mode="worktree", path="/w", branch=branch, base="main")


def test_a_complete_run_in_a_worktree_says_where_the_work_is_and_how_to_finish(tmp_path):
    project = tmp_path / "my project"
    spec = project / ".auto-claude" / "specs" / "001-x"
    said = ended(worktree(), finished("complete", "all 3 subtasks completed")).summary(
        project, spec
    )
    assert said is not None
    first, where, *steps = said.splitlines()
    assert first == "agent-tui: complete: all 3 subtasks completed"
    assert where == "the work is on agent-tui/001-x:"
    words = [shlex.split(step)[:2] for step in steps]
    assert words == [["agent-tui", "diff"], ["agent-tui", "merge"], ["agent-tui", "discard"]]
    for step in steps:  # each pastes as it is, the path with its space quoted
        argv = shlex.split(step.split("   ")[0])
        assert argv[2:] == ["--project", str(project), "--spec", "001-x"]
    assert steps[1].endswith("brings it into main")


def test_a_run_that_did_not_finish_says_how_to_go_on(tmp_path):
    spec = tmp_path / ".auto-claude" / "specs" / "002-y"
    said = ended(worktree(), finished("stuck", "subtask 1.2 is stuck", 1)).summary(tmp_path, spec)
    assert said == (
        "agent-tui: stuck: subtask 1.2 is stuck\n"
        f"to go on: agent-tui run --project {tmp_path} --spec 002-y"
    )


def test_in_place_a_complete_run_names_no_branch(tmp_path):
    in_place = WorkspaceStatus(mode="in_place", path=str(tmp_path), branch=None)
    said = ended(in_place, finished("complete", "all 1 subtask completed")).summary(tmp_path, None)
    assert said == "agent-tui: complete: all 1 subtask completed"


def test_an_app_that_saw_no_end_adds_nothing(tmp_path):
    assert ended(worktree()).summary(tmp_path, None) is None  # detached: it said so itself


def test_the_message_is_printable_and_masked(tmp_path):
    token = "sk-ant-oat01-" + "Q" * 40
    said = ended(finished("error", f"bad \x1b[31m{token}")).summary(tmp_path, None)
    assert said is not None and "\x1b" not in said and token not in said


def test_the_printed_commands_run(tmp_path):
    # ``diff`` as printed, on a project with no run: one sentence, exit 2 (not a usage error).
    project = tmp_path / "a b"
    (project / ".auto-claude" / "specs" / "001-x").mkdir(parents=True)
    said = ended(worktree(), finished("complete", "done")).summary(
        project, project / ".auto-claude" / "specs" / "001-x"
    )
    assert said is not None
    diff = shlex.split(said.splitlines()[2].split("   ")[0])
    assert diff[:2] == ["agent-tui", "diff"]
    done = subprocess.run(
        [sys.executable, "-m", "agent_tui.cli", *diff[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 2 and "usage:" not in done.stderr, done.stderr
