"""The bundled demo, headless: the real CLI completes the sample plan through one 400 burst,
in the sample's own worktree, with a commit per subtask."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent_tui.cli.demo import (
    DEMO_BRANCH,
    DemoWorkspace,
    create_workspace,
    demo_config,
    demo_loop,
    review_commands,
)
from agent_tui.engine.clock import VirtualClock
from agent_tui.headless import format_json, run_headless
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from tests.integration.git_repo import branch_log, git, snapshot
from tests.integration.helpers import keep_subtasks

SUBJECTS = [
    "subtask 1.1: Create greeter/core.py with greet(name)",
    "subtask 1.2: Add farewell(name) to greeter/core.py",
    "subtask 1.3: Write tests/test_core.py for greet and farewell",
    "subtask 2.1: Add greeter/__main__.py: python3 -m greeter NAME",
    "subtask 2.2: Document usage in README.md",
]


async def run_demo(
    workspace: DemoWorkspace,
    events: str,
    subtasks: tuple[str, ...] | None = None,
    jsonl: list[str] | None = None,
) -> tuple[int, str]:
    """``subtasks``: the plan keeps only these (each session costs a CLI start-up);
    ``jsonl``: gets each event as ``--events jsonl`` prints it, beside the ``events`` output."""
    if subtasks is not None:
        keep_subtasks(workspace.spec_dir / "implementation_plan.json", subtasks)
    scenario = Scenario.bundled("demo").model_copy(update={"pace_s": 0.0})
    with SimServer(scenario) as sim:
        config = demo_config(workspace, sim, pause_between_s=0.0, pause_on_problem=False)
        clock = VirtualClock()
        out = io.StringIO()

        def make_loop(sink):
            async def both(event) -> None:
                if jsonl is not None:
                    jsonl.append(format_json(event))
                await sink(event)

            return demo_loop(workspace, config, both, clock=clock)

        code = await run_headless(make_loop, events, out)
    workspace.release()
    return code, out.getvalue()


@dataclass
class DemoRun:
    workspace: DemoWorkspace
    before: dict[str, str]
    """The sample's checkout as the demo laid it out, before the run."""
    code: int
    text: str
    events: list[dict]
    env: dict[str, str]
    """agent-tui's own dirs as the run had them: where ``diff`` and ``merge`` find its work."""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The whole demo, once, in a --workdir with a space in it: its text output and its
    events as JSON lines (a whole demo costs seven CLI sessions)."""
    root = tmp_path_factory.mktemp("demo")
    env = {
        f"AGENT_TUI_{name}_DIR": str(root / name.lower()) for name in ("CONFIG", "STATE", "DATA")
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        workspace = create_workspace(root / "a demo dir")
        before = snapshot(workspace.project_dir)
        lines: list[str] = []
        code, text = asyncio.run(run_demo(workspace, "text", jsonl=lines))
    return DemoRun(workspace, before, code, text, [json.loads(line) for line in lines], env)


def run_printed(command: str) -> subprocess.CompletedProcess:
    """A command the demo printed, as the user would type it (``agent-tui`` is this
    checkout's ``python3 -m agent_tui.cli.commands``)."""
    words = shlex.split(command)
    assert words[0] == "agent-tui"
    argv = [sys.executable, "-m", "agent_tui.cli", *words[1:]]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def test_demo_jsonl_events_have_the_documented_fields(demo_run):
    project = demo_run.workspace.project_dir
    assert demo_run.code == 0
    events = demo_run.events
    assert all("type" in e and isinstance(e["ts"], float) for e in events)
    by_type: dict[str, list[dict]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert by_type["plan_loaded"][0]["total"] == 5
    started = by_type["session_started"][0]
    assert {"subtask_id", "profile", "attempt"} <= started.keys()
    assert {e["name"] for e in by_type["tool_use"]} >= {"Write", "Read", "Edit", "Bash"}
    ended = by_type["session_ended"]
    assert {"subtask_id", "outcome", "error_kind", "cost_usd"} <= ended[0].keys()
    assert [e["error_kind"] for e in ended].count("tool_concurrency") == 2
    assert "runaway" not in {e["error_kind"] for e in ended}  # detection is on: no false alarm
    usage = by_type["usage"][-1]
    assert usage["spec_cost_usd"] == pytest.approx(sum(e["cost_usd"] for e in ended))
    assert usage["forecast"]["subtasks_left"] == 0
    backoffs = [
        (e["kind"], e["delay_s"], e["retry"], e["max_retries"]) for e in by_type["backoff_started"]
    ]
    assert backoffs == [("tool_concurrency", 2.0, 1, 5), ("tool_concurrency", 4.0, 2, 5)]
    assert {"id", "status"} <= by_type["subtask_status"][0].keys()
    assert by_type["loop_finished"] == [by_type["loop_finished"][0]]
    assert by_type["loop_finished"][0]["outcome"] == "complete"
    # The agent worked in the sample's worktree: a commit per subtask on its branch, and
    # the demo's own checkout of the sample exactly as it was laid out.
    [status] = by_type["workspace"]
    assert (status["mode"], status["branch"], status["base"]) == ("worktree", DEMO_BRANCH, "main")
    assert Path(status["path"]) != project
    assert [e["id"] for e in by_type["subtask_committed"]] == ["1.1", "1.2", "1.3", "2.1", "2.2"]
    assert branch_log(project, DEMO_BRANCH) == SUBJECTS
    assert snapshot(project) == demo_run.before
    # Each check imported the package, which only the worktree has: it ran there.
    checked = [(e["subtask_id"], e["outcome"]) for e in by_type["verification_ended"]]
    # After each session, then once more on the final tree before the run completes:
    assert [c for c in checked if c[1] == "passed"] == 2 * [
        ("1.1", "passed"),
        ("1.2", "passed"),
        ("2.1", "passed"),
    ]
    assert not (project / "greeter").exists()


def test_demo_text_output_shows_the_backoff_the_worktree_and_how_to_finish(demo_run, monkeypatch):
    # After the JSONL test: this one merges the work.
    workspace, text = demo_run.workspace, demo_run.text
    for name, value in demo_run.env.items():
        monkeypatch.setenv(name, value)
    assert demo_run.code == 0
    assert "backoff   tool_concurrency: waiting 2 s (retry 1/5)" in text
    assert "backoff   tool_concurrency: waiting 4 s (retry 2/5)" in text
    assert re.search(
        r"workspace worktree \S+/001-greeter on agent-tui/001-greeter, from main", text
    )
    assert len(re.findall(r" commit    \d\.\d: [0-9a-f]{12} \(\d files?\)", text)) == 5
    assert "sk-ant-oat01-demo" not in text
    *_, notice, finished = text.splitlines()
    assert finished.endswith("finished  complete (exit 0) all 5 subtasks completed")
    assert notice.endswith(
        f"info      demo: the work is on {DEMO_BRANCH}: " + review_commands(workspace.project_dir)
    )
    printed = re.findall(r"agent-tui \w+ --project (?:'[^']*'|\S+)", notice)
    commands = {shlex.split(command)[1]: command for command in printed}
    assert sorted(commands) == ["diff", "discard", "merge"]
    diff = run_printed(commands["diff"])
    assert diff.returncode == 0, diff.stderr
    assert (
        "+def greet(name: str) -> str:" in diff.stdout
        and "+++ b/greeter/__main__.py" in diff.stdout
    )
    merged = run_printed(commands["merge"])
    assert merged.returncode == 0, merged.stderr
    project = workspace.project_dir
    assert git(project, "log", "-1", "--format=%s").startswith(f"Merge {DEMO_BRANCH}")
    assert (project / "greeter" / "__main__.py").is_file()
    assert git(project, "branch", "--list", DEMO_BRANCH) == ""  # merged: branch and worktree gone


async def test_without_git_the_demo_runs_in_place_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(bin_without(tmp_path, "git")))
    workspace = create_workspace(tmp_path / "no-git")
    # Two subtasks: in place, the second builds on the first's file in the project itself;
    # the whole demo's run is the tests' above.
    code, text = await run_demo(workspace, "text", subtasks=("1.1", "1.2"))
    assert code == 0, text
    said = [line for line in text.splitlines() if "git is not installed" in line]
    assert len(said) == 1
    assert said[0].endswith(
        "workspace in place (git is not installed): no branch, no commits, no rollback"
    )
    assert "demo: " not in text and " commit " not in text
    assert "finished  complete (exit 0) all 2 subtasks completed" in text
    assert "def farewell(" in (workspace.project_dir / "greeter" / "core.py").read_text()
    assert not (workspace.project_dir / ".git").exists()


def bin_without(tmp_path: Path, missing: str) -> Path:
    """A PATH directory with every program of this one but ``missing``."""
    bin_dir = tmp_path / f"bin-without-{missing}"
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            target = bin_dir / name
            if name != missing and not target.exists():
                target.symlink_to(os.path.join(directory, name))
    return bin_dir


def launch_headless_demo(workdir) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "agent_tui.cli", "demo", "--headless", "--workdir", str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_sigterm_interrupts_the_session_and_exits_130(tmp_path):
    process = launch_headless_demo(tmp_path)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if " session " in line and "#1" in line:
            process.send_signal(signal.SIGTERM)
            break
    rest, err = process.communicate(timeout=60)
    output = "".join(seen) + rest
    assert process.returncode == 130, output + err
    # It says what stopped it (found by a tester: a SIGTERM read "stopped by the user").
    assert "finished  interrupted (exit 130) stopped by SIGTERM" in output
    assert "Traceback" not in err
    project = tmp_path / "greeter"
    assert err.splitlines()[-1] == (
        f"agent-tui: demo stopped; its project is kept in {project}: {review_commands(project)}"
    )
    logs = list((project / ".auto-claude" / "specs" / "001-greeter" / "logs").glob("*.jsonl"))
    assert logs and json.loads(logs[0].read_text().splitlines()[-1])["type"] == "outcome"


def test_a_reader_that_goes_away_stops_the_run_as_an_interruption(tmp_path):
    # Found with `agent-tui demo --headless | head -3`: the write's BrokenPipeError went up
    # through the session, which was abandoned (no attempt recorded) with a traceback.
    process = launch_headless_demo(tmp_path)
    for line in process.stdout:
        if " session " in line and "#1" in line:
            break
    process.stdout.close()  # as `head` does once it has its lines
    err = process.stderr.read()
    assert process.wait(timeout=60) == 130, err
    assert "Traceback" not in err
    assert "agent-tui: standard output was closed (its reader went away)" in err
    spec = tmp_path / "greeter" / ".auto-claude" / "specs" / "001-greeter"
    history = json.loads((spec / "memory" / "attempt_history.json").read_text())
    assert [a["outcome"] for a in history["subtasks"]["1.1"]["attempts"]] == ["interrupted"]
    log = (spec / "logs" / "session-001.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["type"] == "outcome"


def test_the_demo_runs_without_socat_and_leaves_nothing_in_the_data_dir(tmp_path):
    # The default demo (no --workdir): its sample, repository and worktree are all in its
    # temp dir, removed at the end; agent-tui's data dir is never made.
    temp = tmp_path / "temp"
    temp.mkdir()
    data = Path(os.environ["AGENT_TUI_DATA_DIR"])
    process = subprocess.run(
        [sys.executable, "-m", "agent_tui.cli", "demo", "--headless"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": str(bin_without(tmp_path, "socat")), "TMPDIR": str(temp)},
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert "sandbox   UNSANDBOXED (socat not installed)" in process.stdout
    assert "agent-tui: UNSANDBOXED (socat not installed)" in process.stderr
    assert "finished  complete (exit 0)" in process.stdout
    assert process.stderr.splitlines()[-1] == (
        "agent-tui: demo complete; its project went with its temp dir (agent-tui demo "
        "--workdir DIR keeps one, to try diff and merge)"
    )
    worktree = re.search(r"workspace worktree (\S+) on agent-tui/001-greeter", process.stdout)
    assert worktree and Path(worktree.group(1)).is_relative_to(temp)
    assert f"demo: {DEMO_BRANCH} and its worktree go with the demo's temp dir" in process.stdout
    assert len(re.findall(r" commit    \d\.\d: ", process.stdout)) == 5
    assert not data.exists()
    assert not list(temp.glob("agent-tui-demo-*"))
