"""``t`` on a stuck subtask once the run has ended: a new run of the loop in the same app,
with the lock, containment and workspace a fresh run has; the tree and the log go on."""

from __future__ import annotations

from agent_tui.engine.control.runlock import RunLock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import workspace as wev
from tests.tui.conftest import screen_text, wait_until

SIZE = (150, 40)


def log_text(app) -> str:
    return "\n".join("".join(s.text for s in strip) for strip in app.main_screen.log_view.lines)


def stuck_before_the_run(harness, subtask_id: str) -> None:
    """``subtask_id`` stuck after three tries of an earlier run, as the plan says too."""
    from agent_tui.engine.progress.history import AttemptHistory
    from agent_tui.plan import status_in_text

    history = AttemptHistory(harness.workspace.spec_dir)
    for session in (1, 2, 3):
        history.record_attempt(subtask_id, session, "incomplete", None, "")
    history.mark_stuck(subtask_id, "not completed after 3 sessions")
    plan_path = harness.workspace.spec_dir / "implementation_plan.json"
    plan_path.write_text(status_in_text(plan_path.read_text(), subtask_id, "failed"))


async def open_detail(app, pilot, subtask_id: str) -> str:
    tree = app.main_screen.plan_tree
    tree.focus()
    tree.move_cursor(tree._subtask_nodes[subtask_id])
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen is not app.main_screen, "the detail view")
    return str(app.screen.query_one("#detail").border_subtitle)


async def test_t_after_the_run_ended_stuck_runs_the_loop_again_in_the_same_app(scripted_app):
    # Found by a user: once the run had ended stuck, t did nothing and the footer said to
    # rerun with --retry-stuck.
    harness = scripted_app()
    stuck_before_the_run(harness, "1.1")
    app = harness.app
    spec_dir = harness.workspace.spec_dir
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.exit_code == 3, "the run to end stuck")
        first_run = log_text(app)
        assert harness.sessions.started == ["1.2", "1.3"]  # 2.x wait for phase 1
        assert "t: try again" in await open_detail(app, pilot, "1.1")
        await pilot.press("t")
        await wait_until(pilot, lambda: app.exit_code == 0, "the new run to complete")
        await wait_until(pilot, lambda: app.main_screen.log_view.backlog == 0, "the log")
        assert harness.sessions.started == ["1.2", "1.3", "1.1", "2.1", "2.2"]
        assert app.main_screen.plan_tree.status_of("1.1") == "completed"
        text = log_text(app)
        assert text.startswith(first_run)  # the log goes on
        assert "↻ subtask 1.1 will be tried again" in text[len(first_run) :]
        assert app.main_screen.status.state == "complete"
    finished = harness.of(ev.LoopFinished)
    assert [(f.outcome, f.exit_code) for f in finished] == [("stuck", 3), ("complete", 0)]
    # As a fresh run: its own containment and workspace, and the lock held, then let go.
    assert len(harness.of(ev.ContainmentStatus)) == 2
    assert len(harness.of(wev.WorkspaceStatus)) == 2
    RunLock(spec_dir).check()


async def test_a_new_run_that_cannot_hold_the_spec_ends_saying_why(scripted_app):
    harness = scripted_app()
    stuck_before_the_run(harness, "1.1")
    app = harness.app
    spec_dir = harness.workspace.spec_dir
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.exit_code == 3, "the run to end stuck")
        other = RunLock(spec_dir)
        other.acquire()  # another agent-tui run started on the spec meanwhile
        try:
            await open_detail(app, pilot, "1.1")
            await pilot.press("t")
            await wait_until(pilot, lambda: len(harness.of(ev.LoopFinished)) == 2, "its end")
        finally:
            other.release()
        await wait_until(pilot, lambda: app.exit_code == 2, "the refusal's exit code")
        assert harness.sessions.started == ["1.2", "1.3"]
        assert "is already being run" in harness.of(ev.LoopFinished)[1].message


async def test_a_new_run_the_checks_refuse_leaves_the_last_runs_end(scripted_app):
    from agent_tui.exit_codes import InputError

    harness = scripted_app()
    stuck_before_the_run(harness, "1.1")
    app = harness.app
    first = app._make_loop

    def refused(sink):
        raise InputError("spec '001-greeter' is already being run (pid 1 since 10:00)")

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.exit_code == 3, "the run to end stuck")
        app._make_loop = refused
        await open_detail(app, pilot, "1.1")
        await pilot.press("t")
        said = "Subtask 1.1 is not tried again: spec '001-greeter' is already being run"
        await wait_until(
            pilot,
            lambda: any(said in str(n.message) for n in app._notifications),
            "the refusal",
        )
        assert app.exit_code == 3 and app.restarting is None
        app._make_loop = first
        assert "t: try again" in await open_detail(app, pilot, "1.1")  # and may try again
        assert "stuck" in screen_text(app.screen)
