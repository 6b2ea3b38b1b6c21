"""What the screen shows of lanes, from the events alone."""

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import RECHECK_LANE
from agent_tui.tui.lanes_view import ALL, LanesView, log_place


def shows(view: LanesView, event: ev.Event) -> bool:
    return view.shows(log_place(event))


def prefix(view: LanesView, event: ev.Event) -> str:
    return view.prefix(log_place(event))


def three_lanes() -> LanesView:
    view = LanesView()
    view.apply(lev.LanesPlanned(lanes=3, reason="three phases may run at once"))
    return view


def test_one_lane_shows_nothing_of_lanes():
    view = LanesView()
    view.apply(lev.LaneBusy(lane=1, subtask_id="1.1"))
    assert view.badge("1.1") == ""
    assert view.status() == ""
    assert prefix(view, ev.AssistantText(session=1, text="hi", lane=1)) == ""
    assert view.cycle() is ALL  # nothing to cycle through
    assert shows(view, ev.AssistantText(session=1, text="hi", lane=1))


def test_badges_follow_a_subtask_from_its_lane_through_the_queue():
    view = three_lanes()
    assert view.apply(lev.LaneBusy(lane=2, subtask_id="2.1")) == {"", "2.1"}
    assert view.badge("2.1") == "L2"
    view.apply(lev.LaneBusy(lane=1, subtask_id="1.1"))
    view.apply(lev.MergeQueued(subtask_id="2.1", lane=2, waiting=1))
    view.apply(lev.LaneFree(lane=2))
    view.apply(lev.MergeQueued(subtask_id="1.1", lane=1, waiting=2))
    view.apply(lev.LaneFree(lane=1))
    assert (view.badge("2.1"), view.badge("1.1")) == ("queued 1", "queued 2")
    assert view.status() == "0/3 busy · 2 queued · log: all lanes"
    view.apply(lev.MergeStarted(subtask_id="2.1", checks=("2.1",)))
    assert view.badge("2.1") == "merging"
    assert view.status() == "0/3 busy · merging 2.1 · 2 queued · log: all lanes"
    changed = view.apply(
        lev.MergeEnded(subtask_id="2.1", outcome=lev.MergeOutcome.MERGED, commit="abc")
    )
    assert changed == {"", "2.1"}
    assert view.badge("2.1") == ""
    assert view.badge("1.1") == "queued 1"


def test_subtasks_merged_together_all_show_merging_until_each_has_ended():
    view = three_lanes()
    for waiting, subtask_id in enumerate(("2.1", "1.1"), start=1):
        view.apply(lev.MergeQueued(subtask_id=subtask_id, lane=waiting, waiting=waiting))
    both = ("2.1", "1.1")
    for subtask_id in both:
        view.apply(lev.MergeStarted(subtask_id=subtask_id, checks=both, batch=both))
    assert (view.badge("2.1"), view.badge("1.1")) == ("merging", "merging")
    assert view.status() == "0/3 busy · merging 2.1, 1.1 · 2 queued · log: all lanes"
    view.apply(lev.MergeStarted(subtask_id="2.1", checks=("2.1",)))  # the batch was split
    assert (view.badge("2.1"), view.badge("1.1")) == ("merging", "queued 2")
    for subtask_id in both:  # merged together again
        view.apply(lev.MergeStarted(subtask_id=subtask_id, checks=both, batch=both))
    view.apply(lev.MergeEnded(subtask_id="2.1", outcome=lev.MergeOutcome.MERGED, commit="a"))
    assert (view.badge("2.1"), view.badge("1.1")) == ("", "merging")
    assert view.status() == "0/3 busy · merging 1.1 · 1 queued · log: all lanes"
    assert view.apply(ev.LoopFinished(outcome="complete", exit_code=0)) >= {"1.1"}
    assert view.status() == "0/3 busy · log: all lanes"


def test_a_lane_taking_another_subtask_clears_the_old_badge():
    view = three_lanes()
    view.apply(lev.LaneBusy(lane=1, subtask_id="1.1"))
    assert view.apply(lev.LaneBusy(lane=1, subtask_id="1.2")) == {"", "1.1", "1.2"}
    assert (view.badge("1.1"), view.badge("1.2")) == ("", "L1")


def test_the_end_of_the_run_clears_every_badge():
    view = three_lanes()
    view.apply(lev.LaneBusy(lane=3, subtask_id="3.1"))
    view.apply(lev.MergeQueued(subtask_id="1.1", lane=1, waiting=1))
    changed = view.apply(ev.LoopFinished(outcome="interrupted", exit_code=130, message=""))
    assert changed == {"", "3.1", "1.1"}
    assert view.badge("3.1") == view.badge("1.1") == ""
    assert view.status() == "0/3 busy · log: all lanes"


def test_the_log_cycles_all_then_each_lane_and_filters_and_prefixes_lines():
    view = three_lanes()
    from_two = ev.AssistantText(session=1, text="working", lane=2)
    plan = ev.SubtaskStatus(id="1.1", status="completed")
    assert prefix(view, from_two) == "L2 "
    assert prefix(view, lev.LaneBusy(lane=2, subtask_id="2.1")) == ""  # names its lane
    assert [view.cycle() for _ in range(4)] == [1, 2, 3, ALL]
    view.follow(2)
    assert shows(view, from_two) and prefix(view, from_two) == ""
    assert not shows(view, ev.AssistantText(session=1, text="elsewhere", lane=1))
    assert shows(view, plan)
    assert shows(view, lev.MergeQueued(subtask_id="1.1", lane=1, waiting=1))
    assert view.interrupt_target() == 2
    assert view.status().endswith("log: lane 2")


def test_following_a_lane_that_does_not_exist_is_refused():
    view = three_lanes()
    with pytest.raises(ValueError, match="there is no lane 4 \\(lanes 1 to 3\\)"):
        view.follow(4)
    view.follow(3)
    view.apply(lev.LanesPlanned(lanes=2, reason="resumed with fewer"))
    assert view.following is ALL


def test_a_lanes_check_goes_with_its_lane_and_a_re_check_on_the_spec_branch_with_none():
    view = three_lanes()
    own = tev.VerificationStarted(
        subtask_id="2.1", command="make", sandboxed=True, timeout_s=9, lane=2
    )
    again = tev.VerificationEnded(
        subtask_id="1.1", outcome=tev.CheckOutcome.PASSED, lane=RECHECK_LANE
    )
    assert (prefix(view, own), prefix(view, again)) == ("L2 ", "")
    view.follow(1)
    assert not shows(view, own)
    assert shows(view, again)  # the merge queue's, as its merge lines are: shown with any lane
    view.follow(2)
    assert shows(view, own) and prefix(view, own) == ""


def test_a_line_keeps_its_place_not_its_event():
    # thousands of kept lines share a handful of places, none holding its event's text
    one = log_place(
        ev.ToolResult(session=1, tool_use_id="t", is_error=False, summary="x" * 500, lane=2)
    )
    two = log_place(ev.AssistantText(session=2, text="other", lane=2))
    assert one is two and one == (2, False, False)
    assert log_place(ev.AssistantText(session=2, text="again", lane=RECHECK_LANE)).lane is None
