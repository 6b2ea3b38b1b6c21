"""The app with several lanes: the tree says which lane works on which subtask and what waits
to merge, the status line counts lanes and the queue, and the log follows all lanes (each
line after its lane) or one, cycled with v or picked with V; i interrupts the lane the log
follows.  The lanes' events are the engine's own, posted as the loop would send them."""

from __future__ import annotations

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import RECHECK_LANE, CheckOutcome
from agent_tui.tui.messages import EngineEvent
from agent_tui.tui.screens.lane_picker import LanePicker
from tests.tui.conftest import all_shown, wait_until

SIZE = (150, 34)


def log_text(app) -> str:
    log = app.main_screen.log_view
    return "\n".join("".join(segment.text for segment in strip) for strip in log.lines)


def said(lane: int, text: str) -> ev.AssistantText:
    return ev.AssistantText(session=lane, text=text, lane=lane)


LANES = (
    lev.LanesPlanned(lanes=3, reason="three subtasks may run at once"),
    lev.LaneBusy(lane=2, subtask_id="1.2"),
    lev.LaneBusy(lane=3, subtask_id="1.3"),
    said(2, "working on the second"),
    said(3, "working on the third"),
    lev.MergeQueued(subtask_id="1.3", lane=3, waiting=1),
    lev.LaneFree(lane=3),
)


async def test_the_tree_status_and_log_show_the_lanes_and_v_follows_one(scripted_app):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        screen = app.main_screen
        assert screen.status.text_of("lanes") == ""  # one lane so far: nothing of lanes
        assert not app._available("cycle_lane")
        for event in LANES:
            screen.post_message(EngineEvent(event))
        await wait_until(pilot, lambda: "working on the third" in log_text(app), "the lines")
        tree = screen.plan_tree
        assert tree.label_of("1.2") == "○ 1.2 L2 Add farewell(name) to greeter/core.py"
        assert tree.label_of("1.3").startswith("○ 1.3 queued 1 Write tests/")
        assert screen.status.text_of("lanes") == "lanes 1/3 busy · 1 queued · log: all lanes"
        shown = log_text(app)
        assert "L2 working on the second" in shown.replace("  ", " ")
        assert "≡ 3 lanes: three subtasks may run at once" in shown
        assert "≡ lane 2 takes 1.2" in shown and "L2 ≡" not in shown  # it names its lane
        assert "⤵ 1.3 waits to be merged (1 waiting)" in shown
        assert app._available("cycle_lane") and app._available("pick_lane")

        await pilot.press("v")  # lane 1: the held session's lane, none of the others' lines
        await wait_until(pilot, lambda: "working on" not in log_text(app), "lane 1 alone")
        assert screen.status.text_of("lanes").endswith("log: lane 1")
        await pilot.press("v")
        await wait_until(pilot, lambda: "working on the second" in log_text(app), "lane 2")
        assert "working on the third" not in log_text(app)
        assert "L2 working" not in log_text(app)  # one lane: no prefix

        asked: list[int | None] = []
        real_interrupt = app.loop.interrupt

        def interrupt(lane: int | None = None) -> None:
            asked.append(lane)
            real_interrupt(lane)

        app.loop.interrupt = interrupt
        await pilot.press("i")
        await wait_until(pilot, lambda: asked, "the interrupt")
        assert asked == [2]  # the lane the log follows

        await pilot.press("V")
        await wait_until(pilot, lambda: isinstance(app.screen, LanePicker), "the picker")
        await pilot.press("home", "enter")  # "all lanes", first in the list
        await wait_until(pilot, lambda: "working on the third" in log_text(app), "all again")
        assert screen.status.text_of("lanes").endswith("log: all lanes")
        # the lines from before the lanes were planned (one lane kept none twice) are back
        assert "session 1: coder subtask 1.1" in log_text(app).replace("  ", " ")

        screen.post_message(EngineEvent(lev.MergeStarted(subtask_id="1.3", checks=("1.3",))))
        await wait_until(pilot, lambda: "merging" in tree.label_of("1.3"), "the merge")
        screen.post_message(
            EngineEvent(
                lev.MergeEnded(subtask_id="1.3", outcome=lev.MergeOutcome.MERGED, commit="abc")
            )
        )
        await wait_until(pilot, lambda: "merging" not in tree.label_of("1.3"), "merged")
        await wait_until(pilot, lambda: "⤵ 1.3 merged as abc" in log_text(app), "its line")
        harness.sessions.release.set()
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: app.exit_code is not None, "the exit")


def post(app, *events: ev.Event) -> None:
    for event in events:
        app.main_screen.post_message(EngineEvent(event))


MERGE = (
    lev.MergeStarted(subtask_id="1.3", checks=("1.3", "1.2")),
    tev.VerificationStarted(
        subtask_id="1.3", command="pytest -q", sandboxed=True, timeout_s=300, lane=RECHECK_LANE
    ),
    tev.VerificationEnded(
        subtask_id="1.3", outcome=CheckOutcome.PASSED, command="pytest -q",
        reason="`pytest -q` exited 0", lane=RECHECK_LANE,
    ),
)  # fmt: skip
OWN_CHECK = (
    tev.VerificationStarted(
        subtask_id="1.2", command="pytest -q", sandboxed=True, timeout_s=300, lane=2
    ),
    tev.VerificationEnded(
        subtask_id="1.2", outcome=CheckOutcome.FAILED, command="pytest -q",
        reason="`pytest -q` exited 1 (expected 0)",
        output_tail="FAILED tests/test_core.py::test_farewell - AssertionError\n", lane=2,
    ),
)  # fmt: skip


def rows_after(rows: list[str], first: str) -> list[str]:
    """The screen rows of the log line whose first row starts with ``first``: that row and
    the ones its text wrapped to (each starting with a blank), up to the next line."""
    start = next(n for n, row in enumerate(rows) if row.startswith(first))
    end = next((n for n in range(start + 1, len(rows)) if not rows[n].startswith(" ")), None)
    return rows[start:end]


WRITTEN = "/tmp/project/.auto-claude/specs/001-greeter/implementation_plan.json"


async def test_the_all_lanes_log_shows_checks_by_lane_and_wraps_under_the_prefix(scripted_app):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        post(app, *LANES, *OWN_CHECK, *MERGE)
        post(
            app,
            ev.ToolResult(
                session=2, tool_use_id="t", is_error=False, lane=2,
                summary=f"The file {WRITTEN} has been updated successfully.",
            ),
            said(3, "Both tests pass now: greet and farewell handle empty names.\n\nNext: docs."),
        )  # fmt: skip
        await wait_until(pilot, lambda: "Next: docs." in log_text(app), "the lines")
        rows = log_text(app).splitlines()
        # A lane's check after its lane, its failed output under its text; the merge's
        # check on the spec's branch after no lane, saying it is one.
        assert rows_after(rows, "L2   ⚖ checking 1.2: pytest -q") == [
            "L2   ⚖ checking 1.2: pytest -q  (sandboxed)".ljust(len(rows[0]))
        ]
        failed = rows_after(rows, "L2   ✘ 1.2 failed: exited 1")
        assert failed[1].startswith("         │ FAILED tests/test_core.py::test_farewell")
        assert any(row.startswith("  ⚖ re-checking 1.3: pytest -q") for row in rows)
        assert any(row.startswith("  ✔ re-check of 1.3 passed: exited 0") for row in rows)
        # Wrapped rows hang under the text after the lane's prefix and marker.
        result = rows_after(rows, "L2     ◀ The file")
        assert len(result) > 1
        assert all(row.startswith(" " * 9) and row[9] != " " for row in result[1:])
        paragraph = rows_after(rows, "L3 Both tests pass now")
        assert paragraph[-1].startswith("   Next: docs.")
        assert all(row.startswith("   ") and row[3] != " " for row in paragraph[1:] if row.strip())

        await pilot.press("v")  # lane 1: the merge's checks, not lane 2's
        await wait_until(pilot, lambda: "working on" not in log_text(app), "lane 1 alone")
        shown = log_text(app)
        assert "⚖ re-checking 1.3" in shown and "checking 1.2" not in shown
        harness.sessions.release.set()
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: app.exit_code is not None, "the exit")


def started(session: int, lane: int, subtask_id: str) -> ev.SessionStarted:
    return ev.SessionStarted(
        session=session, kind="coder", subtask_id=subtask_id, profile="default", attempt=1,
        model="claude-sonnet-4-5", transcript=f"logs/session-{session:03}.jsonl", lane=lane,
    )  # fmt: skip


def spent(session: int, lane: int, cost: float) -> sev.SessionSpend:
    return sev.SessionSpend(
        session=session, cost_usd=cost, input_tokens=1000, output_tokens=50, lane=lane
    )


def usage(session: int, lane: int, cost: float, total: float) -> ev.Usage:
    return ev.Usage(
        session=session, session_cost_usd=cost, session_input_tokens=1000,
        session_output_tokens=50, total_cost_usd=total, total_input_tokens=3000,
        total_output_tokens=150, lane=lane, spec_cost_usd=total + 1,
    )  # fmt: skip


async def test_the_status_lines_cost_follows_each_running_sessions_spend(scripted_app):
    harness = scripted_app(hold={"1.1"})
    app = harness.app
    async with app.run_test(size=(160, 34)) as pilot:
        await wait_until(pilot, lambda: "1.1" in harness.sessions.started, "session 1")
        status = app.main_screen.status

        posted: list[ev.Event] = []

        async def cost_after(*events: ev.Event) -> str:
            posted.extend(events)
            post(app, *events)
            await wait_until(pilot, lambda: all_shown(harness, extra=len(posted)), "them")
            return status.text_of("cost")

        shown = await cost_after(
            LANES[0], started(5, 2, "1.2"), started(6, 3, "1.3"), spent(5, 2, 0.1)
        )
        assert shown == "cost $0.00 session · $0.10 this run"  # session 6's, none yet
        shown = await cost_after(spent(6, 3, 0.05))
        assert shown == "cost $0.0500 session · $0.15 this run"
        # Session 5 ends: the engine's total counts session 6's estimate as it stands.
        shown = await cost_after(usage(5, 2, 0.12, total=0.17))
        assert shown == "cost $0.0500 session · $0.17 this run · $1.17 this spec"
        shown = await cost_after(spent(6, 3, 0.08))
        assert shown == "cost $0.0800 session · $0.20 this run · $1.20 this spec"
        shown = await cost_after(usage(6, 3, 0.09, total=0.21))  # exact again
        assert shown == "cost $0.0900 session · $0.21 this run · $1.21 this spec"
        harness.sessions.release.set()
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: app.exit_code is not None, "the exit")
