"""The run's record, as ``ls`` reads it: kept true to the events, tidied when the run died."""

from __future__ import annotations

import os
import subprocess
import sys

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import spend as sev
from agent_tui.runproc import registry
from agent_tui.runproc.book import RunBook
from agent_tui.runproc.places import RunPlace, runs_dir
from agent_tui.runproc.record import KILLED, RunRecord, RunState
from agent_tui.runproc.sockets import listen


def book_for(tmp_path, name: str) -> RunBook:
    spec = tmp_path / name / ".auto-claude" / "specs" / "001-x"
    spec.mkdir(parents=True)
    book = RunBook(RunPlace.of(spec), str(spec), str(tmp_path / name))
    book.write()
    return book


def plan(statuses: list[str]) -> ev.PlanLoaded:
    subtasks = tuple(
        ev.SubtaskView(id=f"1.{n}", description="d", status=s, phase_id="1")
        for n, s in enumerate(statuses)
    )
    return ev.PlanLoaded(
        spec_dir="/s",
        feature="f",
        phases=(ev.PhaseView(id="1", name="P", subtasks=subtasks),),
        total=len(statuses),
        completed=statuses.count("completed"),
    )


def read(book: RunBook) -> RunRecord:
    record = RunRecord.read(book.place.record)
    assert record is not None
    return record


def test_the_record_follows_the_runs_state_progress_lanes_and_spend(tmp_path):
    book = book_for(tmp_path, "p")
    book.note(plan(["completed", "pending", "pending"]), attached=True)
    book.note(lev.LanesPlanned(lanes=2, reason="the plan asks for 2"), attached=True)
    book.note(lev.LaneBusy(lane=1, subtask_id="1.1"), attached=True)
    book.note(
        ev.Usage(
            session=1,
            session_cost_usd=0.5,
            session_input_tokens=1,
            session_output_tokens=1,
            total_cost_usd=1.25,
            total_input_tokens=1,
            total_output_tokens=1,
        ),
        attached=True,
    )
    book.note(ev.SubtaskStatus(id="1.1", status="completed"), attached=True)
    book.write()
    record = read(book)
    assert (record.state, record.done, record.total) == (RunState.RUNNING, 2, 3)
    assert (record.lanes_busy, record.lanes, record.spend_usd) == (1, 2, 1.25)
    assert record.last_event.endswith("subtask 1.1 → completed")
    book.note(
        ev.BackoffStarted(
            kind="rate_limit", delay_s=600, retry=0, max_retries=0, deadline=1.0, resets_at=2e9
        ),
        attached=True,
    )
    assert read(book).state == RunState.WAITING  # a state change is written at once
    book.note(ev.BackoffEnded(reason="elapsed"), attached=True)
    book.note(ev.SubtaskStuck(id="1.2", reason="3 tries"), attached=True)
    assert read(book).state == RunState.STUCK
    book.note(ev.Paused(reason="paused by you", by_user=True), attached=True)
    assert read(book).state == RunState.PAUSED
    book.note(ev.LoopFinished(outcome="stuck", exit_code=3, message="1.2 is stuck"), attached=True)
    record = read(book)
    assert (record.state, record.outcome, record.exit_code) == (RunState.FINISHED, "stuck", 3)


def test_with_one_lane_a_running_session_is_a_busy_lane_and_its_spend_counts_as_it_goes(
    tmp_path,
):
    """One lane emits no ``lane_busy``: the session is what makes it busy.  ``ls`` shows
    the spend the app's status line shows: each running session's estimate, then the
    CLI's own figure as it ends."""
    book = book_for(tmp_path, "p")
    book.note(plan(["pending", "pending"]), attached=True)
    started = ev.SessionStarted(
        session=1, kind="coder", subtask_id="1.0", profile="p", attempt=1, model=None,
        transcript="t",
    )  # fmt: skip
    book.note(started, attached=True)
    spend = sev.SessionSpend(session=1, cost_usd=0.02, input_tokens=1, output_tokens=1)
    book.note(spend, attached=True)
    book.write()
    assert (read(book).lanes_busy, read(book).spend_usd) == (1, 0.02)
    spend = sev.SessionSpend(session=1, cost_usd=0.03, input_tokens=2, output_tokens=2)
    book.note(spend, attached=True)
    ended = ev.SessionEnded(session=1, subtask_id="1.0", outcome="success", error_kind=None,
                            cost_usd=0.025)  # fmt: skip
    book.note(ended, attached=True)
    usage = ev.Usage(
        session=1, session_cost_usd=0.025, session_input_tokens=2, session_output_tokens=2,
        total_cost_usd=0.025, total_input_tokens=2, total_output_tokens=2,
    )  # fmt: skip
    book.note(usage, attached=True)
    book.write()
    assert (read(book).lanes_busy, read(book).spend_usd) == (0, 0.025)  # settled by the CLI


def test_what_the_run_needs_with_no_app_attached_is_a_needs_you_line_until_one_attaches(tmp_path):
    book = book_for(tmp_path, "p")
    problem = ev.Paused(reason="profile 'work': log in again", needs_user=True)
    book.note(problem, attached=True)
    assert read(book).needs_you == ""  # an app rang for it
    assert not book.place.log.exists()
    book.note(ev.Resumed(), attached=True)
    book.note(problem, attached=False)
    record = read(book)
    assert record.state == RunState.NEEDS_YOU
    assert record.needs_you == "agent-tui needs you: profile 'work': log in again"
    log = book.place.log.read_text()
    assert "needs-you agent-tui needs you: profile 'work': log in again" in log
    book.attached()
    assert read(book).needs_you == ""


def test_ls_lists_the_runs_that_need_you_first_and_a_dead_ones_as_killed(tmp_path):
    paused, needy, dead = (book_for(tmp_path, n) for n in ("a", "b", "c"))
    paused.note(ev.Paused(reason="paused by you", by_user=True), attached=True)
    needy.note(ev.Paused(reason="log in", needs_user=True), attached=True)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead.record.pid = int(gone.stdout)  # a process that has ended
    dead.write()
    socket = listen(dead.place.socket)
    socket.close()  # as a kill -9 leaves it: the file, nobody listening
    assert dead.place.socket.exists()
    listed = registry.runs()
    assert [r.project_dir for r in listed] == [str(tmp_path / n) for n in ("b", "a", "c")]
    assert [r.state for r in listed] == [RunState.NEEDS_YOU, RunState.PAUSED, RunState.FINISHED]
    assert listed[2].outcome == KILLED
    assert not dead.place.socket.exists()
    assert read(dead).outcome == KILLED  # written back: the next ls says the same
    assert not registry.dismiss(listed[0])
    assert registry.dismiss(listed[2])
    assert [r.key for r in registry.runs()] == [needy.place.key, paused.place.key]
    assert os.stat(runs_dir()).st_mode & 0o777 == 0o700


def test_a_finished_run_says_what_to_do_next_from_its_outcome_and_branch(tmp_path):
    from agent_tui.engine.events.workspace import WorkspaceStatus

    book = book_for(tmp_path, "my project")
    assert read(book).next_step() == ""  # going on: attach to it
    book.note(
        WorkspaceStatus(mode="worktree", path="/w", branch="agent-tui/001-x", base="main"),
        attached=True,
    )
    book.note(ev.LoopFinished(outcome="complete", exit_code=0, message="all done"), attached=True)
    project = tmp_path / "my project"
    assert read(book).next_step() == (
        f"the work is on agent-tui/001-x: agent-tui diff --project '{project}' --spec 001-x "
        "shows it, then merge or discard"
    )
    book.record.outcome = "stuck"
    book.write()
    assert read(book).next_step() == f"to go on: agent-tui run --project '{project}' --spec 001-x"
    in_place = WorkspaceStatus(mode="in_place", path=str(project), branch="", base="")
    book.note(in_place, attached=True)
    book.record.outcome = "complete"
    book.write()
    assert read(book).next_step() == ""  # in place: the work is in the checkout already
