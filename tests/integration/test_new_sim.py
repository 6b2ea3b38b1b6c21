"""``agent-tui new`` headless through the real CLI and the sim: a spec from a sentence, the
planner's plan printed, the run stopped there with exit 0, and ``run`` then codes it."""

from __future__ import annotations

import json

import pytest

from agent_tui.cli.commands import main
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from tests.integration.git_repo import git, make_repo
from tests.integration.helpers import coder_steps, script

PLAN = {
    "feature": "a verbose flag",
    "workflow_type": "feature",
    "phases": [
        {
            "id": "1",
            "name": "Flag",
            "depends_on": [],
            "subtasks": [
                {
                    "id": "1.1",
                    "description": "Add --verbose",
                    "status": "pending",
                    "verification": {"type": "command", "command": "true", "expected": "exit 0"},
                }
            ],
        }
    ],
}
PLANNER = [
    {
        "text": "Writing the plan.",
        "tools": [{"name": "Write", "input": {"file_path": "{plan}", "content": json.dumps(PLAN)}}],
    },
    {"text": "Plan written."},
]


@pytest.fixture
def sim(isolated_home, monkeypatch):
    scripts = [
        {"match": "Role: planner", "sessions": [PLANNER]},
        script("1.1", [coder_steps("1.1")]),
    ]
    server = SimServer(Scenario.model_validate({"scripts": scripts})).start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-new-sim-test")
    monkeypatch.setenv("CLAUDE_CODE_MAX_RETRIES", "0")
    monkeypatch.setenv("HOME", str(isolated_home))
    yield server
    server.stop()


def test_headless_new_prints_the_plan_and_exits_0_then_run_codes_it(tmp_path, sim, capsys):
    """One test, sharing the sessions' start-up: new, run, then run --review-plan."""
    project, _ = make_repo(tmp_path / "app")
    (tmp_path / "app" / ".auto-claude" / "specs" / "001-test").rename(
        tmp_path / "app" / ".auto-claude" / "specs" / "001-earlier"
    )
    code = main(["new", "Add a --verbose flag", "--project", str(project), "--headless"])
    out = capsys.readouterr().out
    assert code == 0, out
    spec = project / ".auto-claude" / "specs" / "002-add-a-verbose-flag"
    assert (spec / "spec.md").read_text() == "# Add a --verbose flag\n"
    assert json.loads((spec / "implementation_plan.json").read_text())["phases"] == PLAN["phases"]
    lines = out.splitlines()
    assert any(
        line.endswith(
            "finished  planned (exit 0) plan written (1 subtask): read it, "
            "then run again to code it"
        )
        for line in lines
    )
    tail = out[out.index("\nthe plan (") :].splitlines()
    assert tail[1:] == [
        f"the plan ({spec / 'implementation_plan.json'}):",
        "a verbose flag",
        "phase 1: Flag",
        "  1.1  Add --verbose",
        "        check: true → exit 0",
        "",
        f"next: edit it if you like, then agent-tui run --project {project} "
        "--spec 002-add-a-verbose-flag",
    ]
    assert {r.script for r in sim.requests} == {"Role: planner"}
    # Nothing was coded: the work branch has no commit of its own yet.
    assert git(project, "log", "--format=%s", "main..agent-tui/002-add-a-verbose-flag") == ""

    assert main(["run", "--project", str(project), "--spec", "2", "--headless"]) == 0
    assert "session   #2 coder subtask 1.1" in capsys.readouterr().out
    log = git(project, "log", "--format=%s", "main..agent-tui/002-add-a-verbose-flag")
    assert log.splitlines() == ["subtask 1.1: Add --verbose"]

    # run --review-plan stops at the plan its planner writes, as new does.
    assert main(["new", "Log each file read", "--project", str(project), "--no-plan"]) == 0
    capsys.readouterr()
    argv = ["run", "--project", str(project), "--spec", "3", "--review-plan", "--headless"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "finished  planned (exit 0)" in out
    assert "next: edit it if you like, then agent-tui run --project " in out
    assert "session   #2" not in out  # the planner's session only
