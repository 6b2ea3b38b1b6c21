"""What ``agent-tui new`` leaves in the terminal once its app has gone: the same end summary
as ``run``'s and ``attach``'s app (``RunEnd.say``), one message whatever the outcome."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent_tui.cli import new
from agent_tui.cli.commands import build_parser
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.review import PlanApproved
from agent_tui.engine.events.workspace import WorkspaceStatus
from agent_tui.startup import checks

SPEC = "001-add-a-verbose-flag"


@pytest.fixture
def new_in_app(tmp_path, monkeypatch, capsys):
    """``new`` run as in a terminal, its app standing in as a launch that runs the loop's
    factory over ``events`` (through the sink ``new`` watches) and returns ``code``."""
    project = tmp_path / "my project"
    project.mkdir()
    monkeypatch.setattr(new, "_checked", lambda *_: SimpleNamespace(workspace=None, title="t"))

    def run(*events: ev.Event, code: int = 0, headless: bool = False) -> tuple[str, Path]:
        async def loop(sink: ev.EventSink) -> None:
            for event in events:
                await sink(event)

        async def shown(event: ev.Event) -> None:
            """The app's (or headless) sink: what it shows is not this test's."""

        monkeypatch.setattr(checks, "build_loop", lambda _checked, sink: loop(sink))

        def launch(args, make_loop, **_) -> int:
            assert args.headless is headless
            asyncio.run(make_loop(shown))
            return code

        argv = ["new", "Add a --verbose flag", "--project", str(project)]
        args = build_parser().parse_args(argv + (["--headless"] if headless else []))
        assert new.run_new(args, launch, in_terminal=True) == code
        said = capsys.readouterr()
        assert said.out == ""
        return said.err, project

    return run


def worktree() -> WorkspaceStatus:
    return WorkspaceStatus(mode="worktree", path="/w", branch=f"agent-tui/{SPEC}", base="main")


def finished(outcome: str, message: str, code: int) -> ev.LoopFinished:
    return ev.LoopFinished(outcome=outcome, exit_code=code, message=message)


def test_a_run_approved_and_complete_says_where_the_work_is_and_how_to_finish(new_in_app):
    err, project = new_in_app(worktree(), finished("complete", "all 1 subtask completed", 0))
    first, where, *steps = err.splitlines()
    assert first == "agent-tui: complete: all 1 subtask completed"
    assert where == f"the work is on agent-tui/{SPEC}:"
    argv = [shlex.split(step.split("   ")[0]) for step in steps]
    assert [words[:2] for words in argv] == [
        ["agent-tui", "diff"],
        ["agent-tui", "merge"],
        ["agent-tui", "discard"],
    ]
    assert all(words[2:] == ["--project", str(project), "--spec", SPEC] for words in argv)


def test_a_run_that_stopped_short_says_so_once_with_the_command_that_goes_on(new_in_app):
    approved = PlanApproved(plan_path="/p/plan.json")
    err, project = new_in_app(
        worktree(), approved, finished("stuck", "subtask 1.1 is stuck", 3), code=3
    )
    assert err.splitlines() == [
        "agent-tui: stuck: subtask 1.1 is stuck",
        f"to go on: agent-tui run --project {shlex.quote(str(project))} --spec {SPEC}",
    ]


def test_leaving_at_the_review_keeps_the_spec_and_says_how_to_code_it(new_in_app):
    message = "stopped by the user at the plan review: the plan is kept (2 subtasks)"
    err, project = new_in_app(worktree(), finished("planned", message, 0))
    assert err.splitlines() == [  # the app showed the plan: it is not printed again
        f"agent-tui: planned: {message}",
        f"to code it: agent-tui run --project {shlex.quote(str(project))} --spec {SPEC}",
    ]
    assert (project / ".auto-claude" / "specs" / SPEC / "spec.md").is_file()


def test_an_app_that_saw_no_end_still_says_where_the_spec_is(new_in_app):
    err, project = new_in_app(worktree(), code=1)
    spec_dir = project / ".auto-claude" / "specs" / SPEC
    assert err.splitlines() == [  # no plan approved: the next run stops at its review too
        f"agent-tui: the spec is kept in {spec_dir}: "
        f"agent-tui run --project {shlex.quote(str(project))} --spec {SPEC} --review-plan"
    ]


def test_a_planner_interrupted_says_the_command_that_keeps_the_review(new_in_app):
    # Found by a newcomer: "to go on: agent-tui run …" would code the next plan unreviewed.
    err, project = new_in_app(finished("interrupted", "stopped by the user", 130), code=130)
    assert err.splitlines() == [
        "agent-tui: interrupted: stopped by the user",
        f"to go on: agent-tui run --project {shlex.quote(str(project))} --spec {SPEC} "
        "--review-plan",
    ]


def test_a_discarded_plan_says_only_what_was_removed(new_in_app):
    err, project = new_in_app(finished("discarded", "the plan was discarded", 3), code=3)
    spec_dir = project / ".auto-claude" / "specs" / SPEC
    assert err.splitlines() == [f"agent-tui: discarded: removed {spec_dir}"]
    assert not spec_dir.exists()


def test_headless_a_planner_that_failed_says_where_the_spec_is_once(new_in_app):
    err, project = new_in_app(finished("error", "the planner wrote no plan", 2), headless=True)
    spec_dir = project / ".auto-claude" / "specs" / SPEC
    assert err.splitlines() == [
        f"agent-tui: the spec is kept in {spec_dir}: "
        f"agent-tui run --project {shlex.quote(str(project))} --spec {SPEC} --review-plan"
    ]


def test_run_review_plan_discarded_in_the_app_says_it_once(tmp_path, monkeypatch, capsys):
    # `run --review-plan`'s app: a discard at the review says what it removed, once.
    from agent_tui.cli import commands
    from agent_tui.startup import launch

    spec = tmp_path / ".auto-claude" / "specs" / SPEC
    spec.mkdir(parents=True)
    (spec / "spec.md").write_text("# a verbose flag\n")
    (spec / "implementation_plan.json").write_text("{}")

    def run_in_app(args, wrap, plan_discard="") -> int:
        async def loop(sink: ev.EventSink) -> None:
            await sink(finished("discarded", "the plan was discarded at its review", 0))

        async def shown(event: ev.Event) -> None:
            """The app's sink."""

        asyncio.run(wrap(loop)(shown))
        return 0

    monkeypatch.setattr(launch, "run_in_app", run_in_app)
    monkeypatch.setenv("AGENT_TUI_FORCE_APP", "1")
    argv = ["run", "--project", str(tmp_path), "--spec", SPEC, "--review-plan"]
    assert commands.main(argv) == 0
    said = capsys.readouterr().err
    assert said.count("agent-tui:") == 1, said
    assert "discarded: removed" in said and not (spec / "implementation_plan.json").exists()
