"""The bundled demo, headless: the real CLI completes the sample plan through one 400 burst."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys

from agent_tui.demo import create_workspace, demo_config
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.loop import CoderLoop
from agent_tui.headless import run_headless
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer


async def run_demo(tmp_path, events: str) -> tuple[int, str]:
    workspace = create_workspace(tmp_path / events)
    scenario = Scenario.bundled("demo").model_copy(update={"pace_s": 0.0})
    with SimServer(scenario) as sim:
        config = demo_config(workspace, sim, pause_between_s=0.0, pause_on_problem=False)
        clock = VirtualClock()
        out = io.StringIO()
        code = await run_headless(
            lambda sink: CoderLoop(config, workspace.profiles, sink, clock=clock), events, out
        )
    assert (workspace.project_dir / "greeter" / "__main__.py").exists()
    return code, out.getvalue()


async def test_demo_text_output_shows_the_backoff_and_completes(tmp_path):
    code, text = await run_demo(tmp_path, "text")
    assert code == 0
    assert "backoff   tool_concurrency: waiting 2 s (retry 1/5)" in text
    assert "backoff   tool_concurrency: waiting 4 s (retry 2/5)" in text
    assert "finished  complete (exit 0) all 5 subtasks completed" in text
    assert "sk-ant-oat01-demo" not in text


async def test_demo_jsonl_events_have_the_documented_fields(tmp_path):
    code, text = await run_demo(tmp_path, "jsonl")
    assert code == 0
    events = [json.loads(line) for line in text.splitlines()]
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
    backoffs = [
        (e["kind"], e["delay_s"], e["retry"], e["max_retries"]) for e in by_type["backoff_started"]
    ]
    assert backoffs == [("tool_concurrency", 2.0, 1, 5), ("tool_concurrency", 4.0, 2, 5)]
    assert {"id", "status"} <= by_type["subtask_status"][0].keys()
    assert by_type["loop_finished"] == [by_type["loop_finished"][0]]
    assert by_type["loop_finished"][0]["outcome"] == "complete"


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
    logs = list(
        (tmp_path / "greeter" / ".auto-claude" / "specs" / "001-greeter" / "logs").glob("*.jsonl")
    )
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


def test_the_demo_runs_without_socat_and_says_it_is_unsandboxed(tmp_path):
    bin_dir = tmp_path / "bin-without-socat"
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            target = bin_dir / name
            if name != "socat" and not target.exists():
                target.symlink_to(os.path.join(directory, name))
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent_tui.cli",
            "demo",
            "--headless",
            "--workdir",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": str(bin_dir)},
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert "sandbox   UNSANDBOXED (socat not installed)" in process.stdout
    assert "agent-tui: UNSANDBOXED (socat not installed)" in process.stderr
    assert "finished  complete (exit 0)" in process.stdout
