"""Parallel lanes through the real CLI and the sim, in a git project: independent phases run
at once in worktrees of their own, and each subtask reaches the spec's branch only through
the merge queue, which replays it on the tip and runs the checks again."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.engine.coding import Coding
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.events.lanes import MergeOutcome
from agent_tui.engine.events.trust import RECHECK_LANE, CheckOutcome
from agent_tui.engine.progress.history import AttemptHistory
from agent_tui.engine.stages.merge import MergeQueue
from agent_tui.workspace.leftovers import IN_GIT_DIR
from tests.integration.git_repo import branch_log, git
from tests.integration.helpers import plan_doc, script

pytestmark = pytest.mark.integration

BRANCH = "agent-tui/001-test"


@pytest.fixture
def lanes_run(make_run):
    """``make_run`` on a git project with one commit, run with lanes."""

    def build(plan, scripts, **config):
        run = make_run(plan, scripts, **config)
        (run.project / "shared.txt").write_text("base\n")
        (run.project / ".gitignore").write_text(".auto-claude/\n")
        git(run.project, "init", "--quiet", "--initial-branch=main")
        git(run.project, "add", "--all")
        git(run.project, "commit", "--quiet", "-m", "start")
        return run

    return build


def write(name: str, content: str) -> dict:
    return {"name": "Write", "input": {"file_path": "{project}/" + name, "content": content}}


def read(name: str) -> dict:
    return {"name": "Read", "input": {"file_path": "{project}/" + name}}


def done(subtask_id: str) -> list[dict]:
    """The two steps that mark the subtask completed (the CLI edits only what was read)."""
    return [
        {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
        {"tools": [{"name": "Edit", "set_status": {"subtask": subtask_id, "status": "completed"}}]},
    ]


def session(*steps: dict) -> list[dict]:
    return list(steps)


def with_check(plan: dict, checks: dict[str, str]) -> dict:
    for phase in plan["phases"]:
        for subtask in phase["subtasks"]:
            if subtask["id"] in checks:
                subtask["verification"] = {"type": "command", "command": checks[subtask["id"]]}
    return plan


def merged(run) -> list[tuple[str, MergeOutcome]]:
    return [(e.subtask_id, e.outcome) for e in run.of(lev.MergeEnded)]


async def test_two_independent_phases_run_at_once_and_all_land_in_order(lanes_run, monkeypatch):
    # Phase 1 is 1.1 then 1.2 (whose check needs 1.1's work), phase 2 is 2.1.
    plan = with_check(
        plan_doc([("1", [], ["1.1", "1.2"]), ("2", [], ["2.1"])]),
        {"1.2": "test -e a.txt && test -e c.txt"},
    )
    # Each session's first reply waits for the other's to have started: run one after the
    # other, neither would ever get its answer (the sim gives up, and the test fails).
    first = overlapping("1.1", "2.1", {"tools": [write("a.txt", "a\n")]})
    second = overlapping("2.1", "1.1", {"tools": [write("b.txt", "b\n")]})
    then = [{"tools": [write("c.txt", "c\n")]}, *done("1.2"), {"text": "."}]
    scripts = [
        script("1.1", [[*first, *done("1.1"), {"text": "Done with 1.1."}]]),
        script("2.1", [[*second, *done("2.1"), {"text": "Done with 2.1."}]]),
        script("1.2", [then]),
    ]
    run = lanes_run(plan, scripts, lanes=2)
    # Nothing merges before 1.2 is done: it can only have started on 1.1's work, queued.
    hold_the_queue(monkeypatch, until=3)
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    [planned] = run.of(lev.LanesPlanned)
    assert planned.lanes == 2
    started = {e.subtask_id: e.lane for e in run.of(ev.SessionStarted)}
    assert sorted([started["1.1"], started["2.1"]]) == [1, 2]  # each in its own lane
    taken = {e.subtask_id: e.on for e in run.of(lev.LaneBusy)}
    assert taken == {"1.1": "", "2.1": "", "1.2": "1.1"}
    assert [outcome for _, outcome in merged(run)] == [MergeOutcome.MERGED] * 3
    order = [e.subtask_id for e in run.of(lev.MergeEnded)]
    assert order.index("1.1") < order.index("1.2")
    assert branch_log(run.project, BRANCH) == [f"subtask {i}: make {i}" for i in order]
    for name, text in (("a.txt", "a\n"), ("b.txt", "b\n"), ("c.txt", "c\n")):
        assert git(run.project, "show", f"{BRANCH}:{name}") == text
    assert run.statuses() == {"1.1": "completed", "1.2": "completed", "2.1": "completed"}
    assert [e.id for e in run.of(wev.SubtaskCommitted)].count("1.1") >= 1
    # Each session is told that others work beside it, and what that can do to a command.
    prompts = [r.prompt for r in run.sim.requests if r.turn == 0]
    assert len(prompts) == 3
    assert all("Other sessions work at the same time" in p and "bwrap:" in p for p in prompts)
    listed = git(run.project, "worktree", "list", "--porcelain")
    assert ".lane-" not in listed  # the lanes' worktrees go when the run ends
    # The sandbox's mount points, held in the shared git dir while lanes ran, go too.
    # (worktrees/ is the repository's own: the spec's worktree is in it.)
    left = [n for n in IN_GIT_DIR if (run.project / ".git" / n).exists()]
    assert left == ["worktrees"]


SIGNALLED_BY = {"merged": lev.MergeEnded, "queued": lev.MergeQueued}


def signal_when(run, subtask_id: str, word: str) -> None:
    """Give the sim the signal ``<id> <word>`` as the queue has ``merged`` that subtask, or
    as it is ``queued`` there."""

    def watch(events: list) -> None:
        last = events[-1]
        if isinstance(last, SIGNALLED_BY[word]) and last.subtask_id == subtask_id:
            run.sim.signal(f"{subtask_id} {word}")

    run.on_event = watch


def overlapping(first: str, other: str, head: dict) -> list[dict]:
    """The first step of a session whose reply waits for ``other``'s session to start."""
    return [{"signal": f"{first} started", "wait_for": f"{other} started", **head}]


async def test_two_subtasks_on_the_same_line_one_merges_the_other_is_redone_on_the_tip(
    lanes_run,
):
    plan = plan_doc([("1", [], ["1.1"]), ("2", [], ["2.1"])])
    first = overlapping("1.1", "2.1", {"tools": [read("shared.txt")]})
    first += [{"tools": [write("shared.txt", "base\nfrom 1.1\n")]}, *done("1.1"), {"text": "."}]
    second = overlapping("2.1", "1.1", {"tools": [read("shared.txt")]})
    # Its write waits for 1.1's merge: then it is sure to conflict with the new tip.
    second += [
        {"wait_for": "1.1 merged", "tools": [write("shared.txt", "base\nfrom 2.1\n")]},
        *done("2.1"),
        {"text": "."},
    ]
    redo = [
        {"tools": [read("shared.txt")]},
        {"tools": [write("shared.txt", "base\nfrom 1.1\nfrom 2.1\n")]},
        *done("2.1"),
        {"text": "Done again."},
    ]
    scripts = [script("1.1", [first]), script("2.1", [second, redo])]
    run = lanes_run(plan, scripts, lanes=2)
    signal_when(run, "1.1", "merged")
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    # Nothing else runs or waits when it is redone: it works alone, on the tip itself.
    assert merged(run) == [("1.1", MergeOutcome.MERGED), ("2.1", MergeOutcome.CONFLICT)]
    assert run.of(ev.SessionStarted)[-1].subtask_id == "2.1"
    prompts = [r.prompt for r in run.sim.requests_for(r"Subtask ID: 2\.1\b") if r.turn == 0]
    assert "could not be merged" in prompts[-1] and "shared.txt" in prompts[-1]
    assert git(run.project, "show", f"{BRANCH}:shared.txt") == "base\nfrom 1.1\nfrom 2.1\n"
    assert branch_log(run.project, BRANCH) == ["subtask 1.1: make 1.1", "subtask 2.1: make 2.1"]
    assert run.statuses() == {"1.1": "completed", "2.1": "completed"}


HOLD_S = 30.0


def hold_the_queue(monkeypatch, until: int) -> None:
    """The merge queue starts once ``until`` subtasks wait in it (it would otherwise merge
    the first at once), so that they are merged together."""
    run_queue = MergeQueue.run

    async def held(self) -> None:
        # Bounded: a run that never queues that many (a failing test) merges after all.
        deadline = time.monotonic() + HOLD_S
        while len(self.waiting) < until and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await run_queue(self)

    monkeypatch.setattr(MergeQueue, "run", held)


async def test_a_batch_whose_check_fails_is_merged_apart_and_only_the_culprit_is_redone(
    lanes_run, monkeypatch
):
    plan = with_check(
        plan_doc([("1", [], ["1.1"]), ("2", [], ["2.1"])]),
        {"1.1": "grep -q fast config.txt && test ! -e override.txt"},
    )
    first = overlapping("1.1", "2.1", {"tools": [write("config.txt", "mode=fast\n")]})
    second = overlapping("2.1", "1.1", {"tools": [write("override.txt", "mode=slow\n")]})
    second += [*done("2.1"), {"wait_for": "1.1 queued", "text": "."}]
    redo = [{"tools": [write("notes.txt", "no override\n")]}, *done("2.1"), {"text": "."}]
    scripts = [
        script("1.1", [[*first, *done("1.1"), {"text": "."}]]),
        script("2.1", [second, redo]),
    ]
    run = lanes_run(plan, scripts, lanes=2)
    signal_when(run, "1.1", "queued")
    hold_the_queue(monkeypatch, until=2)
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    started = [(e.subtask_id, e.batch) for e in run.of(lev.MergeStarted)]
    both = ("1.1", "2.1")
    assert started[:3] == [("1.1", both), ("2.1", both), ("1.1", ())]
    said = [e.message for e in run.of(ev.Notice) if "together" in e.message]
    assert said == ["merge queue: 1.1, 2.1 together: 1.1's check fails; merged apart to find which"]
    # Apart, 1.1 lands on the tip its lane began from; 2.1 then breaks 1.1's check alone,
    # and is redone (alone, in the spec's own worktree: nothing else is left to run).
    assert merged(run) == [("1.1", MergeOutcome.MERGED), ("2.1", MergeOutcome.RECHECK_FAILED)]
    prompts = [r.prompt for r in run.sim.requests_for(r"Subtask ID: 2\.1\b") if r.turn == 0]
    assert "once its work was put together" in prompts[-1] and "subtask 1.1" in prompts[-1]
    tree = git(run.project, "ls-tree", "--name-only", BRANCH).split()
    assert "override.txt" not in tree and {"config.txt", "notes.txt"} <= set(tree)
    assert branch_log(run.project, BRANCH) == ["subtask 1.1: make 1.1", "subtask 2.1: make 2.1"]
    assert run.statuses() == {"1.1": "completed", "2.1": "completed"}
    # 1.1's check ran in its lane, then on the spec's branch (the merges', the final one):
    # those say so (the log shows them apart from a lane's own checks), and each ends.
    [lane] = [e.lane for e in run.of(ev.SessionStarted) if e.subtask_id == "1.1"]
    checks = [(e.subtask_id, e.lane) for e in run.of(tev.VerificationStarted)]
    ones = [where for subtask_id, where in checks if subtask_id == "1.1"]
    assert ones[0] == lane and len(ones) > 2 and set(ones[1:]) == {RECHECK_LANE}
    ended = [(e.subtask_id, e.lane) for e in run.of(tev.VerificationEnded)]
    assert [c for c in ended if c[0] == "1.1"] == [c for c in checks if c[0] == "1.1"]


async def test_a_batch_stopped_during_its_checks_is_kept_then_merged_together_once(
    lanes_run, monkeypatch
):
    plan = with_check(
        plan_doc([("1", [], ["1.1"]), ("2", [], ["2.1"])]),
        {"1.1": "test -e a.txt", "2.1": "test -e b.txt"},
    )
    first = overlapping("1.1", "2.1", {"tools": [write("a.txt", "a\n")]})
    second = overlapping("2.1", "1.1", {"tools": [write("b.txt", "b\n")]})
    second += [*done("2.1"), {"wait_for": "1.1 queued", "text": "."}]
    # One session each: a subtask started again would find no script, and fail the run.
    scripts = [script("1.1", [[*first, *done("1.1"), {"text": "."}]]), script("2.1", [second])]
    run = lanes_run(plan, scripts, lanes=2)
    unheld = MergeQueue.run
    hold_the_queue(monkeypatch, until=2)

    def stop_at_the_batch(events: list) -> None:
        last = events[-1]
        if isinstance(last, lev.MergeQueued) and last.subtask_id == "1.1":
            run.sim.signal("1.1 queued")
        if isinstance(last, lev.MergeStarted) and len(last.batch) == 2:
            run.loop.control.stop("the user quit")

    run.on_event = stop_at_the_batch
    await run.go()

    assert run.of(ev.LoopFinished)[-1].outcome == "interrupted"
    assert run.of(lev.MergeEnded) == []  # neither merged, neither sent back
    assert run.statuses() == {"1.1": "in_progress", "2.1": "in_progress"}
    assert branch_log(run.project, BRANCH) == []  # the batch was undone
    history = json.loads((run.spec_dir / "memory" / "attempt_history.json").read_text())
    assert [q["subtask_id"] for q in history["merge_queue"]] == ["1.1", "2.1"]
    assert "merging" not in history

    # The next run: its queue, as it always starts, finds both waiting, and merges them
    # together, their checks run once on the two merged, each landing once, in order.
    run.on_event = None
    monkeypatch.setattr(MergeQueue, "run", unheld)
    before = len(run.events)
    await run.go()
    again = run.events[before:]
    assert run.exit_code == 0, run.of(ev.LoopFinished)[-1]
    assert not [e for e in again if isinstance(e, ev.SessionStarted)]
    both = ("1.1", "2.1")
    started = [(e.subtask_id, e.batch, e.checks) for e in again if isinstance(e, lev.MergeStarted)]
    assert started == [("1.1", both, both), ("2.1", both, both)]
    ended = [(e.subtask_id, e.outcome) for e in again if isinstance(e, lev.MergeEnded)]
    assert ended == [("1.1", MergeOutcome.MERGED), ("2.1", MergeOutcome.MERGED)]
    # Each check once, on the two merged: that is the final tree, so the final check runs
    # neither again, and says why.
    rechecks = [
        e.subtask_id
        for e in again
        if isinstance(e, tev.VerificationStarted) and e.lane == RECHECK_LANE
    ]
    assert rechecks == ["1.1", "2.1"]
    final = [e.message for e in again if isinstance(e, ev.Notice) and "final check" in e.message]
    assert final == ["final check: 1.1, 2.1 passed on the final tree as they merged"]
    assert branch_log(run.project, BRANCH) == ["subtask 1.1: make 1.1", "subtask 2.1: make 2.1"]
    commits = {e.id: e.commit for e in again if isinstance(e, wev.SubtaskCommitted)}
    assert git(run.project, "rev-parse", BRANCH).strip() == commits["2.1"]
    assert run.statuses() == {"1.1": "completed", "2.1": "completed"}
    history = json.loads((run.spec_dir / "memory" / "attempt_history.json").read_text())
    assert history["merge_queue"] == [] and "merging" not in history


def one_phase_of_two_beside_another() -> dict:
    """Phase 1 holds 1.1 then 1.2 (in that order), phase 2 holds 2.1; 1.2's check passes only
    on a tree that holds 1.1's work."""
    return with_check(
        plan_doc([("1", [], ["1.1", "1.2"]), ("2", [], ["2.1"])]),
        {"1.2": "grep -q 'from 1.1' shared.txt && test -e c.txt"},
    )


async def test_work_started_on_work_that_does_not_merge_is_redone_without_a_try_spent(
    lanes_run, monkeypatch
):
    # 2.1 and 1.1 write the same line; 2.1 waits first, so 1.1 conflicts and goes back, and
    # 1.2, started on 1.1's work meanwhile, goes back with it.
    edit = [{"tools": [read("shared.txt")]}]  # the CLI writes only a file it has read
    first = [*edit, {"tools": [write("shared.txt", "base\nfrom 1.1\n")]}, *done("1.1")]
    first += [{"wait_for": "2.1 queued", "text": "."}]
    redo_first = [*edit, {"tools": [write("shared.txt", "base\nfrom 2.1\nfrom 1.1\n")]}]
    redo_first += [*done("1.1"), {"text": "."}]
    then = [{"tools": [write("c.txt", "c\n")]}, *done("1.2"), {"text": "."}]
    beside = [*edit, {"tools": [write("shared.txt", "base\nfrom 2.1\n")]}]
    beside += [*done("2.1"), {"text": "."}]
    scripts = [
        script("1.1", [first, redo_first]),
        script("1.2", [then]),  # the same session again: the check decides
        script("2.1", [beside]),
    ]
    run = lanes_run(one_phase_of_two_beside_another(), scripts, lanes=2)
    signal_when(run, "2.1", "queued")
    hold_the_queue(monkeypatch, until=3)
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    assert run.of(lev.LaneBusy)[2].on == "1.1"
    assert merged(run)[:3] == [
        ("2.1", MergeOutcome.MERGED),
        ("1.1", MergeOutcome.CONFLICT),
        ("1.2", MergeOutcome.UNMERGED_BASE),
    ]
    history = AttemptHistory(run.spec_dir)
    outcomes = [a["outcome"] for a in history.attempts("1.2")]
    assert outcomes == ["success", "unmerged_base", "success"]
    assert history.attempt_count("1.2", interrupted=False) == 0  # no try of its own spent
    assert branch_log(run.project, BRANCH) == [
        "subtask 2.1: make 2.1",
        "subtask 1.1: make 1.1",
        "subtask 1.2: make 1.2",
    ]
    assert git(run.project, "show", f"{BRANCH}:shared.txt") == "base\nfrom 2.1\nfrom 1.1\n"
    assert run.statuses() == {"1.1": "completed", "1.2": "completed", "2.1": "completed"}


async def test_a_session_started_on_work_that_goes_back_is_stopped_at_once(lanes_run, monkeypatch):
    # As above, but 1.2's first session is still running (its model never answers) when
    # 1.1 conflicts and goes back: it is stopped then, not left to run to a useless end,
    # and the run does not pause for it.
    edit = [{"tools": [read("shared.txt")]}]  # the CLI writes only a file it has read
    first = [*edit, {"tools": [write("shared.txt", "base\nfrom 1.1\n")]}, *done("1.1")]
    first += [{"wait_for": "2.1 queued", "text": "."}]
    redo_first = [*edit, {"tools": [write("shared.txt", "base\nfrom 2.1\nfrom 1.1\n")]}]
    redo_first += [*done("1.1"), {"text": "."}]
    held = [{"signal": "1.2 held", "wait_for": "1.2 released", "text": "."}]
    then = [{"tools": [write("c.txt", "c\n")]}, *done("1.2"), {"text": "."}]
    beside = [*edit, {"tools": [write("shared.txt", "base\nfrom 2.1\n")]}]
    beside += [*done("2.1"), {"text": "."}]
    scripts = [
        script("1.1", [first, redo_first]),
        script("1.2", [held, then]),
        script("2.1", [beside]),
    ]
    run = lanes_run(one_phase_of_two_beside_another(), scripts, lanes=2)
    signal_when(run, "2.1", "queued")
    run_queue = MergeQueue.run

    async def held_until_12_runs(self) -> None:  # bounded, as hold_the_queue
        await asyncio.to_thread(run.sim.wait_for, "1.2 held", HOLD_S)
        await run_queue(self)

    monkeypatch.setattr(MergeQueue, "run", held_until_12_runs)
    try:
        await run.go()
    finally:
        run.sim.signal("1.2 released")

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    # (Then 1.1 and 1.2 are all that is left: a chain, which works alone on the tip.)
    assert merged(run) == [("2.1", MergeOutcome.MERGED), ("1.1", MergeOutcome.CONFLICT)]
    ended = [e for e in run.of(ev.SessionEnded) if e.subtask_id == "1.2"]
    assert [e.outcome for e in ended] == ["interrupted", "success"]
    assert ended[0].message == "stopped: it built on 1.1's work, which did not merge"
    notices = [n.message for n in run.of(ev.Notice) if "1.2's session is stopped" in n.message]
    assert notices == [
        "lane 1: 1.2's session is stopped; it built on 1.1's work, which went back "
        "(conflicts in shared.txt)"
    ]
    said = [
        type(e).__name__
        for e in run.events
        if (isinstance(e, lev.MergeEnded) and e.subtask_id == "1.1")
        or (isinstance(e, ev.Notice) and "1.2's session is stopped" in e.message)
    ]
    assert said == ["MergeEnded", "Notice"]  # the log says why 1.1 went back, then the rest
    assert all(s.mode != "paused" for s in run.of(ev.LoopStateChanged))
    shown = [e.status for e in run.of(ev.SubtaskStatus) if e.id == "1.2"]
    assert shown == ["in_progress", "pending", "in_progress", "completed"]
    history = AttemptHistory(run.spec_dir)
    assert [a["outcome"] for a in history.attempts("1.2")] == ["interrupted", "success"]
    assert history.attempt_count("1.2", interrupted=False) == 0  # no try of its own spent
    assert branch_log(run.project, BRANCH) == [
        "subtask 2.1: make 2.1",
        "subtask 1.1: make 1.1",
        "subtask 1.2: make 1.2",
    ]
    assert run.statuses() == {"1.1": "completed", "1.2": "completed", "2.1": "completed"}


def oauth_profiles(tmp_path, names: str) -> tuple[ProfileStore, dict[str, str]]:
    """One logged-in profile per letter (the CLI reports usage windows for OAuth only)."""
    profiles, tokens = [], {}
    for name in names:
        tokens[name] = f"sk-ant-oat01-lane-profile-{name * 12}"
        config_dir = tmp_path / f"claude-{name}"
        config_dir.mkdir()
        login = {
            "accessToken": tokens[name],
            "refreshToken": "sk-ant-ort01-x",
            "expiresAt": int((time.time() + 3600) * 1000),
            "scopes": ["user:inference"],
        }
        (config_dir / ".credentials.json").write_text(json.dumps({"claudeAiOauth": login}))
        profiles.append(Profile(name=name, config_dir=str(config_dir)))
    return ProfileStore.in_memory(profiles, active=names[0]), tokens


async def test_a_usage_limit_on_one_lanes_profile_moves_that_lane_only(lanes_run, tmp_path):
    profiles, tokens = oauth_profiles(tmp_path, "abc")
    limit = {"error": "rate_limit", "quota": {"status": "rejected", "resets_in_s": 3600}}
    honest = [{"tools": [write("a.txt", "a\n")]}, *done("1.1"), {"text": "."}]
    other = [{"tools": [write("b.txt", "b\n")]}, *done("2.1"), {"text": "."}]
    third = [{"tools": [write("c.txt", "c\n")]}, *done("3.1"), {"text": "."}]
    scripts = [script("1.1", [[limit], honest]), script("2.1", [other]), script("3.1", [third])]
    # Each subtask declares its file: a merge checks again only what it touched, so the
    # final check has the earlier merges' checks to run again.
    plan = plan_doc([("1", [], ["1.1"]), ("2", [], ["2.1"]), ("3", [], ["3.1"])])
    for phase, name in zip(plan["phases"], "abc", strict=True):
        [subtask] = phase["subtasks"]
        subtask["files_to_create"] = [f"{name}.txt"]
        subtask["verification"] = {"type": "command", "command": f"test -e {name}.txt"}
    run = lanes_run(plan, scripts, lanes=2, profiles=profiles, environ={}, auto_switch=True)
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    by_lane: dict[int, list[str]] = {}
    for started in run.of(ev.SessionStarted):
        by_lane.setdefault(started.lane, []).append(started.profile)
    assert set(by_lane[2]) == {"b"}  # the other lane kept its profile
    assert by_lane[1][0] == "a" and "a" not in by_lane[1][1:]
    assert {s.lane for s in run.of(ev.ProfileSwitched)} == {1}
    limited = [r for r in run.sim.requests if r.status == 429]
    assert limited and {r.bearer for r in limited} == {tokens["a"]}
    # The final check runs the two earlier merges' checks side by side: one in the spec's
    # worktree, one in a free lane whose worktree is now the final commit's.
    [said] = [e.message for e in run.of(ev.Notice) if e.message.startswith("final check")]
    assert "2 completed subtasks' checks run again on the final tree, 2 at a time" in said
    since = max(i for i, e in enumerate(run.events) if isinstance(e, lev.MergeEnded))
    final = [e for e in run.events[since:] if isinstance(e, tev.VerificationEnded)]
    assert len(final) == 2 and {e.outcome for e in final} == {CheckOutcome.PASSED}
    assert sorted(e.lane for e in final)[0] == RECHECK_LANE and final[1].lane != final[0].lane
    assert not run.of(wev.TryRolledBack)  # the lane's reset left nothing to roll back


async def test_a_chain_works_alone_in_the_specs_worktree_and_merges_nothing(lanes_run, monkeypatch):
    plan = with_check(
        plan_doc([("1", [], ["1.1"]), ("2", ["1"], ["2.1"])]),
        {"2.1": "grep -q one a.txt && grep -q two b.txt"},
    )
    first = [{"tools": [write("a.txt", "one\n")]}, *done("1.1"), {"text": "."}]
    second = [{"tools": [write("b.txt", "two\n")]}, *done("2.1"), {"text": "."}]
    run = lanes_run(plan, [script("1.1", [first]), script("2.1", [second])], lanes=2)
    asked = []
    start = Coding._start

    async def counted_start(self, plan):
        asked.append(1)
        return await start(self, plan)

    monkeypatch.setattr(Coding, "_start", counted_start)
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    assert run.of(lev.LanesPlanned)[0].lanes == 2
    # The free lane waits for a change while the other works: it does not ask again and
    # again (a loop that did spun a core for the whole session).
    assert len(asked) < 20
    # Only one subtask could ever start: no lane worktree, no merge, as one lane would run.
    assert run.of(lev.MergeQueued) == [] and run.of(lev.MergeEnded) == []
    assert [e.lane for e in run.of(ev.SessionStarted)] == [1, 1]
    spec_worktree = run.of(wev.WorkspaceStatus)[0].path
    prompts = [r.prompt for r in run.sim.requests if r.turn == 0 and "Subtask ID: " in r.prompt]
    assert len(prompts) == 2
    assert all(f"Project directory: {spec_worktree}\n" in p for p in prompts)
    assert branch_log(run.project, BRANCH) == ["subtask 1.1: make 1.1", "subtask 2.1: make 2.1"]
    assert [e.id for e in run.of(wev.SubtaskCommitted)] == ["1.1", "2.1"]
    assert run.statuses() == {"1.1": "completed", "2.1": "completed"}


async def test_what_a_stopped_try_alone_left_is_rolled_back_before_lanes_merge(lanes_run):
    # 1.1 works alone (2.1 depends on it) and is stopped with shared.txt half edited in the
    # spec's worktree; the user then makes 2.1 independent: the next run starts both in
    # lanes, and their merges must not land on what the stopped try left.
    plan = plan_doc([("1", [], ["1.1"]), ("2", ["1"], ["2.1"])])
    stopped = [
        {"tools": [read("shared.txt")]},
        {"tools": [write("shared.txt", "base\nhalf-done\n")]},
        {"wait_for": "run 1 over", "text": "."},
    ]
    honest = [{"tools": [write("a.txt", "a\n")]}, *done("1.1"), {"text": "."}]
    other = [{"tools": [write("b.txt", "b\n")]}, *done("2.1"), {"text": "."}]
    run = lanes_run(plan, [script("1.1", [stopped, honest]), script("2.1", [other])], lanes=2)

    def stop_after_the_write(events: list) -> None:
        last = events[-1]
        if isinstance(last, ev.ToolResult) and len(run.of(ev.ToolResult)) == 2:
            run.loop.stop("the user quit")
        elif isinstance(last, ev.LoopFinished):
            run.sim.signal("run 1 over")

    run.on_event = stop_after_the_write
    await run.go()
    worktree = run.of(wev.WorkspaceStatus)[0].path
    assert git(worktree, "status", "--porcelain") == " M shared.txt\n"  # left as it was
    run.on_event = None
    edited = run.plan
    edited["phases"][1]["depends_on"] = []
    (run.spec_dir / "implementation_plan.json").write_text(json.dumps(edited))
    first_run = len(run.events)
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    second = run.events[first_run:]
    assert {e.lane for e in second if isinstance(e, ev.SessionStarted)} == {1, 2}
    [rolled] = [e for e in second if isinstance(e, wev.TryRolledBack)]
    assert rolled.subtask_id == "1.1"
    assert second.index(rolled) < next(
        i for i, e in enumerate(second) if isinstance(e, ev.SessionStarted)
    )
    assert "+half-done" in (run.spec_dir / rolled.diff).read_text()
    assert git(worktree, "status", "--porcelain") == ""
    assert git(run.project, "show", f"{BRANCH}:shared.txt") == "base\n"
    assert sorted(s for s, outcome in merged(run) if outcome == MergeOutcome.MERGED) == [
        "1.1",
        "2.1",
    ]
