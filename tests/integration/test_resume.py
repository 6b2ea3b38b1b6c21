"""Crash safety: kill -9 mid-session, start again with the same command, lose nothing."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from tests.integration.helpers import coder_steps, plan_doc, script


def start(project, sim, home, config_dir) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_"))}
    env.update(
        {
            "ANTHROPIC_BASE_URL": sim.base_url,
            "ANTHROPIC_API_KEY": "sk-ant-api03-resume-test",
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "HOME": str(home),
            "AGENT_TUI_CONFIG_DIR": str(config_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent_tui.cli",
            "run",
            "--project",
            str(project),
            "--headless",
            "--events",
            "jsonl",
            "--model",
            "claude-sonnet-4-5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


RUNS_UNTIL_KILLED = (
    "python3 -c \"import pathlib, time; pathlib.Path('running').touch(); time.sleep(60)\""
)


def _placeholder(path) -> bool:
    info = path.lstat()
    return stat.S_ISREG(info.st_mode) and info.st_size == 0 and stat.S_IMODE(info.st_mode) == 0o444


def test_kill_9_mid_session_then_the_same_command_resumes_at_that_subtask(tmp_path):
    project = tmp_path / "project"
    spec = project / ".auto-claude" / "specs" / "001-resume"
    spec.mkdir(parents=True)
    plan = plan_doc([("1", [], ["1.1", "1.2"])])
    (spec / "implementation_plan.json").write_text(json.dumps(plan, indent=2))
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "profiles.json").write_text('{"settings": {"pause_between_s": 0}}')
    scripts = [
        script(
            "1.1",
            [
                [
                    {
                        "text": "Reading.",
                        "tools": [{"name": "Read", "input": {"file_path": "{plan}"}}],
                    },
                    {"tools": [{"name": "Bash", "input": {"command": RUNS_UNTIL_KILLED}}]},
                    {"fault": "hang"},
                ],
                coder_steps("1.1"),
            ],
        ),
        script("1.2", [coder_steps("1.2")]),
    ]
    with SimServer(Scenario.model_validate({"scripts": scripts})) as sim:
        first = start(project, sim, home, tmp_path / "cfg")
        for line in first.stdout:
            if json.loads(line)["type"] == "tool_result":  # the Read's; a command comes next
                break
        deadline = time.monotonic() + 60
        while not (project / "running").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        first.kill()  # its CLI dies with it, in the middle of a sandboxed command
        first.wait(timeout=30)
        assert first.returncode == -9
        left = sorted(p.name for p in project.iterdir() if _placeholder(p))
        assert ".bashrc" in left and ".mcp.json" in left, left
        legacy = spec / "PAUSE"  # as an earlier version's sandbox left it: not a pause
        legacy.touch(mode=0o444)

        on_disk = json.loads((spec / "implementation_plan.json").read_text())
        assert on_disk == {
            **plan,
            "phases": [
                {
                    **plan["phases"][0],
                    "subtasks": [
                        {**plan["phases"][0]["subtasks"][0], "status": "in_progress"},
                        plan["phases"][0]["subtasks"][1],
                    ],
                }
            ],
        }
        killed_log = spec / "logs" / "session-001.jsonl"
        kinds = [json.loads(line)["type"] for line in killed_log.read_text().splitlines()]
        assert kinds[0] == "prompt" and "outcome" not in kinds

        second = start(project, sim, home, tmp_path / "cfg")
        out, err = second.communicate(timeout=120)  # headless, a pause would never end
        assert second.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    swept = [
        e["message"] for e in events if "killed session's sandbox left" in e.get("message", "")
    ]
    assert swept and ".bashrc" in swept[0] and "PAUSE" in swept[0]
    assert not legacy.exists() and not any(_placeholder(p) for p in project.iterdir())
    started = [e["subtask_id"] for e in events if e["type"] == "session_started"]
    assert started == ["1.1", "1.2"]
    final = json.loads((spec / "implementation_plan.json").read_text())
    assert [s["status"] for s in final["phases"][0]["subtasks"]] == ["completed", "completed"]
    assert final["x_custom"] == {"kept": True}
    assert sorted(p.name for p in (spec / "logs").iterdir()) == [
        "session-001.jsonl",
        "session-002.jsonl",
        "session-003.jsonl",
    ]
    for log in (spec / "logs").iterdir():
        for line in log.read_text().splitlines():
            json.loads(line)
    history = json.loads((spec / "memory" / "attempt_history.json").read_text())
    assert [a["outcome"] for a in history["subtasks"]["1.1"]["attempts"]] == ["success"]
