"""A run with lanes killed with kill -9 while two lanes work, and again during a merge: the
same command goes on, and in the end nothing is lost, no lane's work lands twice, and no
worktree or CLI of the killed runs is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from tests.integration.git_repo import branch_log, git, make_repo
from tests.integration.helpers import plan_doc, script

pytestmark = pytest.mark.integration

BRANCH = "agent-tui/001-lanes"


HELD = """
import asyncio, sys
from agent_tui.cli.commands import main
from agent_tui.engine.stages.merge import MergeQueue

run_queue = MergeQueue.run

async def held(self):
    while len(self.waiting) < 2:  # both wait: they are merged together
        await asyncio.sleep(0.01)
    await run_queue(self)

MergeQueue.run = held
sys.argv = ["agent-tui", *sys.argv[1:]]
sys.exit(main())
"""
"""A run whose merge queue starts once two subtasks wait in it."""


def start(project: Path, sim: SimServer, tmp_path: Path, *, held: bool = False) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_"))}
    env.update(
        {
            "ANTHROPIC_BASE_URL": sim.base_url,
            "ANTHROPIC_API_KEY": "sk-ant-api03-lanes-resume-test",
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "HOME": str(tmp_path / "home"),
            "AGENT_TUI_CONFIG_DIR": str(tmp_path / "cfg"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    argv = [sys.executable, *(["-c", HELD] if held else ["-m", "agent_tui.cli"])]
    argv += ["run", "--project", str(project)]
    argv += ["--headless", "--events", "jsonl", "--model", "claude-sonnet-4-5", "--lanes", "2"]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def read_until(process: subprocess.Popen, done) -> list[dict]:
    """The run's events until ``done(events)`` says so (the process is then killed)."""
    events: list[dict] = []
    assert process.stdout is not None
    for line in process.stdout:
        events.append(json.loads(line))
        if done(events):
            break
    process.kill()
    process.wait(timeout=30)
    assert process.returncode == -9, events[-3:]
    return events


def ours(tmp_path: Path) -> list[str]:
    """Processes (but this one) working anywhere under ``tmp_path``: a CLI, a check, git."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if int(pid) != os.getpid() and cwd.startswith(str(tmp_path)):
            found.append(f"{pid} in {cwd}")
    return found


def none_left(tmp_path: Path, within_s: float = 20.0) -> list[str]:
    deadline = time.monotonic() + within_s
    while (left := ours(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def write(name: str, content: str) -> dict:
    return {"name": "Write", "input": {"file_path": "{project}/" + name, "content": content}}


def finish(subtask_id: str, name: str) -> list[dict]:
    return [
        {"tools": [write(name, subtask_id + "\n")]},
        {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
        {"tools": [{"name": "Edit", "set_status": {"subtask": subtask_id, "status": "completed"}}]},
        {"text": "Done."},
    ]


def all_completed_and_tidy(project: Path, spec_dir: Path, tmp_path: Path) -> None:
    """Every subtask completed, and nothing of the lanes left: no worktree, no kept ref, no
    process of the runs."""
    statuses = {
        s["id"]: s["status"]
        for p in json.loads((spec_dir / "implementation_plan.json").read_text())["phases"]
        for s in p["subtasks"]
    }
    assert set(statuses.values()) == {"completed"}
    assert ".lane-" not in git(project, "worktree", "list", "--porcelain")
    assert git(project, "for-each-ref", "refs/agent-tui/") == ""
    assert none_left(tmp_path) == []


def test_kill_9_during_two_lanes_and_during_a_merge_then_resume(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "profiles.json").write_text('{"settings": {"pause_between_s": 0}}')
    plan = plan_doc([("1", [], ["1.1"]), ("2", [], ["2.1"]), ("3", [], ["3.1"])])
    plan["phases"][0]["subtasks"][0]["verification"] = {
        "type": "command",
        "command": "test -e a.txt",
    }
    project, spec_dir = make_repo(tmp_path / "project", plan=plan, spec="001-lanes")
    # First sessions: half the work, then a reply that never comes (the run is killed).
    hangs = [{"tools": [write("half.txt", "½\n")]}, {"wait_for": "never", "text": "."}]
    scripts = [
        script("1.1", [hangs, finish("1.1", "a.txt")]),
        script("2.1", [hangs, finish("2.1", "b.txt")]),
        script("3.1", [finish("3.1", "c.txt")]),
    ]
    with SimServer(Scenario.model_validate({"scripts": scripts})) as sim:

        def two_working(events: list[dict]) -> bool:
            started = {e["session"] for e in events if e["type"] == "session_started"}
            ended = {e["session"] for e in events if e["type"] == "session_ended"}
            results = [e for e in events if e["type"] == "tool_result"]
            return len(started - ended) == 2 and len(results) >= 2

        first = read_until(start(project, sim, tmp_path), two_working)
        assert {e["lane"] for e in first if e["type"] == "session_started"} == {1, 2}
        assert none_left(tmp_path) == []

        def merging_1_1(events: list[dict]) -> bool:
            last = events[-1]
            return last["type"] == "merge_started" and last["subtask_id"] == "1.1"

        second = read_until(start(project, sim, tmp_path), merging_1_1)
        kept = [
            e["message"] for e in second if e["type"] == "notice" and "leftover" in e["message"]
        ]
        assert len(kept) == 2  # each lane's half work, kept as a diff before it was undone
        assert none_left(tmp_path) == []

        third = start(project, sim, tmp_path)
        out, err = third.communicate(timeout=300)
        assert third.returncode == 0, err[-2000:]
    events = [json.loads(line) for line in out.splitlines()]
    notices = [e["message"] for e in events if e["type"] == "notice"]
    assert any("the merge of 1.1" in n and "was cut short" in n for n in notices), notices
    log = branch_log(project, BRANCH)
    assert sorted(log) == [
        "subtask 1.1: make 1.1",
        "subtask 2.1: make 2.1",
        "subtask 3.1: make 3.1",
    ]
    for name, text in (("a.txt", "1.1\n"), ("b.txt", "2.1\n"), ("c.txt", "3.1\n")):
        assert git(project, "show", f"{BRANCH}:{name}") == text
    assert "half.txt" not in git(project, "ls-tree", "--name-only", BRANCH)
    all_completed_and_tidy(project, spec_dir, tmp_path)


def test_kill_9_during_a_batch_merge_undoes_the_whole_batch_then_merges_each_once(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "profiles.json").write_text('{"settings": {"pause_between_s": 0}}')
    plan = plan_doc([("1", [], ["1.1"]), ("2", [], ["2.1"])])
    plan["phases"][0]["subtasks"][0]["verification"] = {
        "type": "command",
        "command": "test -e a.txt",
    }
    project, spec_dir = make_repo(tmp_path / "project", plan=plan, spec="001-lanes")
    scripts = [script("1.1", [finish("1.1", "a.txt")]), script("2.1", [finish("2.1", "b.txt")])]
    with SimServer(Scenario.model_validate({"scripts": scripts})) as sim:

        def merging_both(events: list[dict]) -> bool:
            last = events[-1]
            return last["type"] == "merge_started" and len(last["batch"]) == 2

        first = read_until(start(project, sim, tmp_path, held=True), merging_both)
        assert sorted(first[-1]["batch"]) == ["1.1", "2.1"]
        assert not [e for e in first if e["type"] == "merge_ended"]
        assert none_left(tmp_path) == []

        second = start(project, sim, tmp_path)
        out, err = second.communicate(timeout=300)
        assert second.returncode == 0, err[-2000:]
    events = [json.loads(line) for line in out.splitlines()]
    notices = [e["message"] for e in events if e["type"] == "notice"]
    batch = ", ".join(first[-1]["batch"])
    assert f"merge queue: the merge of {batch} was cut short; it is undone and merged again" in (
        notices
    )
    # Nothing was sent back or done again: the two commits are merged once each.
    assert [e["outcome"] for e in events if e["type"] == "merge_ended"] == ["merged", "merged"]
    assert not [e for e in events if e["type"] == "session_started"]
    assert sorted(branch_log(project, BRANCH)) == ["subtask 1.1: make 1.1", "subtask 2.1: make 2.1"]
    for name, text in (("a.txt", "1.1\n"), ("b.txt", "2.1\n")):
        assert git(project, "show", f"{BRANCH}:{name}") == text
    all_completed_and_tidy(project, spec_dir, tmp_path)
