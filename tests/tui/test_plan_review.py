"""The plan review in the app: the planner's plan is shown before any coding; ``a`` approves
it (coding starts in the same app), ``e`` edits it in ``$EDITOR`` (only a valid plan is
saved), ``d`` discards it after asking (the run ends, and ``new``'s spec goes with it)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from agent_tui.cli.demo import create_workspace
from agent_tui.cli.plan_review import branch_exists, discard_new_spec
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.control.plan_review import PlanReviewMode
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.review import PlanApproved, PlanReview
from agent_tui.engine.loop import LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.tui.app import AgentApp
from agent_tui.tui.screens.confirm_discard import ConfirmDiscard
from agent_tui.tui.screens.plan_review import PlanReviewScreen
from tests.integration.git_repo import git
from tests.tui.conftest import Harness, PassingChecks, ScriptedSessions, scripted_loop, wait_until

SIZE = (130, 40)
EDITOR = """\
#!{python}
import pathlib, sys

path = pathlib.Path(sys.argv[-1])
text = path.read_text()
if {broken!r}:
    path.write_text(text.replace('"phases"', '"phases" oops', 1))
else:
    path.write_text(text.replace("Create greeter/core.py with greet(name)", "Write greet()"))
"""


class PlannerThenScripted(ScriptedSessions):
    """The planner writes the sample's plan where its prompt says; coders as scripted."""

    def __init__(self, plan_path: Path, plan_text: str) -> None:
        super().__init__(plan_path)
        self.plan_text = plan_text

    def __call__(self, spec, emit, clock):
        if spec.kind != "planner":
            return super().__call__(spec, emit, clock)
        sessions = self
        target = Path(re.search(r"Plan file: (.+)", spec.prompt).group(1).strip())

        class Planner:
            async def run(self):
                from agent_tui.engine.agents.claude.session import SessionOutcome

                sessions.started.append("plan")
                target.write_text(sessions.plan_text)
                return SessionOutcome(outcome="success", cost_usd=0.02)

            async def interrupt(self) -> bool:
                return True

        return Planner()


@pytest.fixture
def review_app(tmp_path):
    """The app on the demo's sample with no plan yet: a planner writes it, then the review."""
    workspace = create_workspace(tmp_path / "review")
    plan_path = workspace.spec_dir / "implementation_plan.json"
    plan_text = plan_path.read_text()
    plan_path.unlink()
    sessions = PlannerThenScripted(plan_path, plan_text)
    config = LoopConfig(
        project_dir=workspace.project_dir,
        spec_dir=workspace.spec_dir,
        model="claude-sonnet-4-5",
        pause_between_s=0.0,
        sandbox=SandboxCheck(),
        plan_review=PlanReviewMode.ASK,
    )
    clock = VirtualClock(auto_advance=False)
    harness = Harness(app=None, clock=clock, workspace=workspace)  # type: ignore[arg-type]
    harness.sessions = sessions

    make_loop = scripted_loop(config, workspace, sessions, PassingChecks(), clock, harness.events)
    harness.app = AgentApp(
        make_loop, title="agent-tui new", clock=clock, plan_discard="the spec is removed"
    )
    yield harness
    workspace.release()


async def at_the_review(pilot, app) -> PlanReviewScreen:
    def shown() -> bool:  # the screen is current before it is composed and its tree filled
        screen = app.screen
        if not isinstance(screen, PlanReviewScreen):
            return False
        trees = screen.query("#review-tree")
        return bool(trees) and bool(trees.first().root.children)

    await wait_until(pilot, shown, "the review, filled")
    return app.screen


def tree_text(screen: PlanReviewScreen) -> list[str]:
    tree = screen.query_one("#review-tree")
    lines = []
    for node in tree.root.children:
        lines.append(str(node.label))
        for child in node.children:
            lines.append("  " + str(child.label))
            lines.extend("    " + str(leaf.label) for leaf in child.children)
    return lines


async def test_the_plan_is_shown_for_review_and_approve_starts_coding(review_app):
    app = review_app.app
    async with app.run_test(size=SIZE) as pilot:
        screen = await at_the_review(pilot, app)
        lines = tree_text(screen)
        assert lines[:4] == [
            "1 Core library",
            "  1.1 Create greeter/core.py with greet(name)",
            "    check: python3 -c \"from greeter.core import greet; print(greet('Ada'))\" → "
            "Hello, Ada!",
            "  1.2 Add farewell(name) to greeter/core.py",
        ]
        no_check = "  1.3 Write tests/test_core.py for greet and farewell  (no check: shown as "
        assert no_check + "unverified)" in lines
        assert "2 Command line  (after 1)" in lines
        assert str(screen.query_one("#review-title").render()).startswith(
            "greeter: greetings as a library and a command  5 subtasks in 2 phases"
        )
        assert app.main_screen.status.state == "plan review"
        for _ in range(5):
            await pilot.pause(0.02)
        assert review_app.sessions.started == ["plan"]  # nothing is coded while it waits
        await pilot.press("a")
        await wait_until(pilot, lambda: "1.1" in review_app.sessions.started, "coding")
        assert app.screen is app.main_screen
        assert len(review_app.of(PlanApproved)) == 1
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")


@pytest.fixture
def editor(tmp_path, monkeypatch):
    def use(broken: bool) -> None:
        script = tmp_path / f"editor-{broken}"
        script.write_text(EDITOR.format(python=sys.executable, broken=broken))
        script.chmod(0o755)
        monkeypatch.delenv("VISUAL", raising=False)
        monkeypatch.setenv("EDITOR", str(script))

    return use


async def test_e_edits_the_plan_and_only_a_valid_edit_is_saved(review_app, editor):
    app = review_app.app
    plan_path = review_app.workspace.spec_dir / "implementation_plan.json"
    async with app.run_test(size=SIZE) as pilot:
        screen = await at_the_review(pilot, app)
        before = plan_path.read_text()
        editor(broken=True)
        await pilot.press("e")
        await pilot.pause()
        assert plan_path.read_text() == before
        said = [str(n.message) for n in app._notifications]
        assert any(
            m.startswith("your edit: not valid JSON (") and "e edits it again" in m for m in said
        )
        assert app.screen is screen  # offered again
        editor(broken=False)
        await pilot.press("e")  # the draft still holds the broken edit
        await pilot.pause()
        assert plan_path.read_text() == before
        (screen.draft.path).write_text(before)  # the user fixes it back by hand
        await pilot.press("e")
        await pilot.pause()
        subtasks = json.loads(plan_path.read_text())["phases"][0]["subtasks"]
        assert subtasks[0]["description"] == "Write greet()"
        assert "  1.1 Write greet()" in tree_text(screen)
        await pilot.press("a")
        await wait_until(pilot, lambda: "1.1" in review_app.sessions.started, "coding")
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: app.exit_code is not None, "the loop to stop")


async def test_a_refused_edit_kept_as_the_draft_goes_with_the_app(review_app, editor):
    app = review_app.app
    async with app.run_test(size=SIZE) as pilot:
        screen = await at_the_review(pilot, app)
        editor(broken=True)
        await pilot.press("e")
        await pilot.pause()
        kept = screen.draft.path
        assert kept.is_file()  # for the next edit, while the review is up
        await pilot.press("ctrl+c")  # its label: quit, keep it
        await wait_until(pilot, lambda: app.exit_code is not None, "the app to end")
    assert not kept.parent.exists()  # no private copy of the plan left in the temp dir
    assert app.return_code == 0  # nothing was running to be interrupted
    [end] = review_app.of(ev.LoopFinished)
    assert end.outcome == "planned"
    assert end.message.startswith("stopped by the user at the plan review: the plan is kept")
    assert (review_app.workspace.spec_dir / "implementation_plan.json").is_file()
    assert review_app.sessions.started == ["plan"]


async def test_d_asks_then_discards_ending_the_run_and_new_removes_its_spec(review_app):
    app = review_app.app
    workspace = review_app.workspace
    async with app.run_test(size=SIZE) as pilot:
        await at_the_review(pilot, app)
        location = app.loop.workspace
        assert branch_exists(location)  # the planner ran in the spec's worktree
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiscard), "the question")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, PlanReviewScreen), "kept")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiscard), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to end")
    assert app.return_code == 3
    assert [f.outcome for f in review_app.of(ev.LoopFinished)] == ["discarded"]
    assert review_app.sessions.started == ["plan"]
    assert len(review_app.of(PlanReview)) == 1
    said = discard_new_spec(workspace.spec_dir, location, branch_was_there=False)
    assert said == (
        f"discarded: removed {workspace.spec_dir} and agent-tui/001-greeter and its worktree"
    )
    assert not workspace.spec_dir.exists()
    assert git(workspace.project_dir, "branch", "--list", "agent-tui/*") == ""
    assert not location.worktree.exists()


async def test_a_planner_that_wrote_no_plan_leaves_no_diff_key(review_app):
    # Found by a newcomer: after "no valid plan after 3 planner sessions" the footer still
    # offered d Diff, and the tree's frame "d: diff", with no subtask to show one of.
    review_app.sessions.plan_text = "{ not a plan"
    app = review_app.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.exit_code is not None, "the run to end")
        await pilot.pause()
        assert app.has_worktree and not app.check_action("diff", ())
        assert "d: diff" not in str(app.main_screen.plan_tree.border_subtitle)
    assert review_app.sessions.started == ["plan"] * 3
