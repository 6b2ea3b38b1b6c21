"""Spend through the real CLI: every session's cost in the ledger, budgets that stop a run
(exit 3, work kept) or move auto_switch to the next profile, the SDK's own session cap, a
ledger that survives kill -9 without counting a session twice, and the forecast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.engine.accounts.ledger import Entry, Ledger
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.money import money
from agent_tui.engine.events.spend import BudgetReached, SpendPlanned
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from tests.integration.helpers import coder_steps, plan_doc, script

KEYS = {"a": "sk-ant-api03-spend-test-key-aaaa", "b": "sk-ant-api03-spend-test-key-bbbb"}


class Cli:
    """``agent-tui`` as a user runs it: its own process, config, state and data dirs."""

    def __init__(self, tmp_path: Path, sim: SimServer) -> None:
        self.tmp = tmp_path
        self.project = tmp_path / "project"
        self.spec = self.project / ".auto-claude" / "specs" / "001-spend"
        self.spec.mkdir(parents=True)
        (tmp_path / "home").mkdir()
        (tmp_path / "cfg").mkdir()
        (tmp_path / "cfg" / "profiles.json").write_text('{"settings": {"pause_between_s": 0}}')
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_"))
        }
        self.env.update(
            {
                "ANTHROPIC_BASE_URL": sim.base_url,
                "ANTHROPIC_API_KEY": "sk-ant-api03-spend-cli-test",
                "CLAUDE_CODE_MAX_RETRIES": "0",
                "HOME": str(tmp_path / "home"),
                "AGENT_TUI_CONFIG_DIR": str(tmp_path / "cfg"),
                "AGENT_TUI_STATE_DIR": str(tmp_path / "state"),
                "AGENT_TUI_DATA_DIR": str(tmp_path / "data"),
                "PYTHONUNBUFFERED": "1",
            }
        )

    def start(self, *args: str, events: str = "jsonl") -> subprocess.Popen:
        command = [sys.executable, "-m", "agent_tui.cli", "run", "--project", str(self.project)]
        command += ["--headless", "--events", events, "--model", "claude-sonnet-4-5", *args]
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env
        )

    def run(self, *args: str, events: str = "jsonl") -> tuple[int, str]:
        process = self.start(*args, events=events)
        out, err = process.communicate(timeout=240)
        assert process.returncode in (0, 3), err
        return process.returncode, out

    def spend(self, *args: str) -> str:
        command = [sys.executable, "-m", "agent_tui.cli", "spend", *args]
        done = subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def plan(self, ids: list[str]) -> None:
        (self.spec / "implementation_plan.json").write_text(
            json.dumps(plan_doc([("1", [], ids)]), indent=2)
        )

    def statuses(self) -> dict[str, str]:
        plan = json.loads((self.spec / "implementation_plan.json").read_text())
        return {s["id"]: s["status"] for p in plan["phases"] for s in p["subtasks"]}

    def ledger(self) -> Ledger:
        return Ledger.load(self.tmp / "state" / "spend")


def jsonl(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_max_spend_stops_the_run_with_exit_3_keeping_the_work_and_a_raised_one_goes_on(
    tmp_path,
):
    scenario = Scenario.model_validate(
        {"scripts": [script(s, [coder_steps(s)]) for s in ("1.1", "1.2", "1.3")]}
    )
    with SimServer(scenario) as sim:
        cli = Cli(tmp_path, sim)
        cli.plan(["1.1", "1.2", "1.3"])
        code, out = cli.run("--max-spend", "0.001", events="text")

        assert code == 3
        lines = out.splitlines()
        finished = lines[-1]
        assert " finished  stopped (exit 3) budget reached: $0.0" in finished
        assert "of $0.0010 --max-spend" in finished
        assert finished.endswith(
            "completed work is kept; run again with a higher --max-spend to go on"
        )
        assert any(
            " budget    $0.00 of $0.0010 --max-spend (0%); no forecast yet" in line
            for line in lines
        )
        assert cli.statuses() == {"1.1": "completed", "1.2": "pending", "1.3": "pending"}
        assert (cli.project / "out_1_1.txt").read_text() == "1.1\n"  # the session finished
        first_run = cli.ledger().spent()
        assert first_run > 0.001

        code, out = cli.run("--max-spend", "5")
    assert code == 0
    events = jsonl(out)
    [planned] = [e for e in events if e["type"] == "spend_planned"]
    assert planned["fits"] is True and planned["forecast"]["subtasks_left"] == 2
    assert planned["forecast"]["cost_usd"] == pytest.approx(2 * first_run, rel=0.2)
    started = [e["subtask_id"] for e in events if e["type"] == "session_started"]
    assert started == ["1.2", "1.3"]  # nothing done twice
    usage = [e for e in events if e["type"] == "usage"]
    ledger = cli.ledger()
    assert usage[-1]["spec_cost_usd"] == pytest.approx(ledger.spent())
    assert usage[-1]["total_cost_usd"] == pytest.approx(ledger.spent() - first_run)
    assert cli.statuses() == {"1.1": "completed", "1.2": "completed", "1.3": "completed"}
    report = cli.spend("--project", str(cli.project))
    assert f"spec {cli.spec}  {money(ledger.spent())}  2 runs · 3 sessions" in report


def test_a_kill_9_mid_session_keeps_its_spend_and_the_resume_counts_it_once(tmp_path):
    scripts = [
        script(
            "1.1",
            [
                [
                    {
                        "text": "Reading.",
                        "tools": [{"name": "Read", "input": {"file_path": "{plan}"}}],
                    },
                    {"fault": "hang"},
                ],
                coder_steps("1.1"),
            ],
        ),
        script("1.2", [coder_steps("1.2")]),
    ]
    with SimServer(Scenario.model_validate({"scripts": scripts})) as sim:
        cli = Cli(tmp_path, sim)
        cli.plan(["1.1", "1.2"])
        first = cli.start()
        for line in first.stdout:
            if json.loads(line)["type"] == "tool_result":  # mid-session; the next reply hangs
                break
        first.kill()
        first.wait(timeout=30)
        assert first.returncode == -9

        [killed] = cli.ledger().sessions()
        assert (killed.session, killed.final, killed.estimated) == (1, False, True)
        assert killed.cost_usd > 0 and killed.input_tokens > 0
        code, out = cli.run()
    assert code == 0
    ledger = cli.ledger()
    sessions = sorted(ledger.sessions(), key=lambda e: (e.ts, e.session))
    assert [(e.session, e.final) for e in sessions] == [(1, False), (2, True), (3, True)]
    assert len({e.run for e in sessions}) == 2
    total = sum(e.cost_usd for e in sessions)
    usage = [e for e in jsonl(out) if e["type"] == "usage"]
    assert usage[-1]["spec_cost_usd"] == pytest.approx(total)  # the killed session once
    lines = (tmp_path / "state" / "spend" / "default.jsonl").read_text().splitlines()
    assert len([line for line in lines if json.loads(line)["session"] == 1]) >= 1
    report = cli.spend("--project", str(cli.project))
    assert f"{money(total)}  2 runs · 3 sessions (includes 1 session estimated" in report
    assert cli.spend("--project", str(cli.project)) == report  # reading counts nothing twice


def two_key_profiles(tmp_path, **budget_of_a) -> tuple[ProfileStore, dict[str, str]]:
    made = []
    for name in ("a", "b"):
        (tmp_path / f"claude-{name}").mkdir()
        fields = budget_of_a if name == "a" else {}
        made.append(
            Profile(name=name, config_dir=str(tmp_path / f"claude-{name}"),
                    token_env=f"SPEND_{name}", **fields)
        )  # fmt: skip
    return ProfileStore.in_memory(made, active="a"), {f"SPEND_{n}": k for n, k in KEYS.items()}


async def test_a_profiles_spent_month_moves_auto_switch_to_the_next_profile(make_run, tmp_path):
    store, environ = two_key_profiles(tmp_path, monthly_budget_usd=0.001)
    run = make_run(
        plan_doc([("1", [], ["1.1", "1.2"])]),
        [script(s, [coder_steps(s)]) for s in ("1.1", "1.2")],
        profiles=store,
        environ=environ,
        auto_switch=True,
        spend_dir=tmp_path / "spend",
    )
    await run.go()

    assert run.exit_code == 0
    assert [s.profile for s in run.of(ev.SessionStarted)] == ["a", "b"]
    assert [(s.from_, s.to, s.reason) for s in run.of(ev.ProfileSwitched)] == [
        ("a", "b", "monthly budget spent")
    ]
    [reached] = run.of(BudgetReached)
    assert reached.budget.name.startswith("profile 'a' monthly budget (")
    assert reached.message.endswith(": the next session runs on profile 'b'")
    assert {r.api_key for r in run.sim.requests_for(r"Subtask ID: 1\.2\b")} == {KEYS["b"]}
    ledger = Ledger.load(tmp_path / "spend")
    assert ledger.spent(profile="a") > 0.001 and ledger.spent(profile="b") > 0


async def test_without_auto_switch_a_spent_month_stops_before_any_session(make_run, tmp_path):
    store, environ = two_key_profiles(tmp_path, monthly_budget_usd=20.0)
    Ledger(tmp_path / "spend").append(
        Entry(run="earlier", session=1, profile="a", spec="/elsewhere", project="/elsewhere",
              role="coder", ts=time.time(), cost_usd=20.5, final=True, estimated=False)
    )  # fmt: skip
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [coder_steps("1.1")])],
        profiles=store,
        environ=environ,
        spend_dir=tmp_path / "spend",
    )
    await run.go()

    assert run.exit_code == 3 and not run.sim.requests
    [planned] = run.of(SpendPlanned)
    assert planned.budgets[0].spent_usd == 20.5
    message = run.of(ev.LoopFinished)[-1].message
    assert message.startswith("budget reached: $20.50 of $20.00 profile 'a' monthly budget (")
    assert "raise it with `agent-tui profiles budget a N`" in message


async def test_the_sessions_own_cap_ends_it_as_a_budget_and_stops_the_run(make_run, tmp_path):
    run = make_run(
        plan_doc([("1", [], ["1.1"])]),
        [script("1.1", [coder_steps("1.1")])],
        session_budget_usd=0.0001,
    )
    await run.go()

    assert run.exit_code == 3
    [ended] = run.of(ev.SessionEnded)
    assert (ended.outcome, ended.error_kind) == ("error", "budget")
    assert ended.message.startswith("session budget reached: $0.0")
    assert ended.message.endswith(" spent of its $0.0001 (session_budget_usd)")
    assert len(run.sim.requests) == 1  # the CLI stopped after the first reply's cost
    message = run.of(ev.LoopFinished)[-1].message
    assert message.endswith("completed work is kept: raise session_budget_usd to go on")
    assert not run.of(ev.BackoffStarted)
    assert run.loop.history.attempt_count("1.1", interrupted=False) == 0


def quick(subtask_id: str) -> list[dict]:
    """A uniform session: read the plan, mark the subtask completed, say so."""
    return [
        {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
        {"tools": [{"name": "Edit", "set_status": {"subtask": subtask_id, "status": "completed"}}]},
        {"text": f"Done with {subtask_id}."},
    ]


async def test_the_forecast_is_within_20_percent_on_ten_uniform_sessions(make_run, tmp_path):
    ids = [f"1.{n}" for n in range(1, 11)]
    run = make_run(
        plan_doc([("1", [], ids)]),
        [script(s, [quick(s)]) for s in ids],
        spend_dir=tmp_path / "spend",
    )
    seconds_per_tool = 120.0

    def each_tool_takes_time(events):
        if isinstance(events[-1], ev.ToolUse):
            run.clock.advance(seconds_per_tool)

    run.on_event = each_tool_takes_time
    await run.go()

    assert run.exit_code == 0
    usage = run.of(ev.Usage)
    costs = [u.session_cost_usd for u in usage]
    assert len(costs) == 10
    assert usage[0].forecast is None  # 1.1 only claimed, its check not run yet
    for done, event in enumerate(usage[1:-1], start=2):
        left_cost, left_time = sum(costs[done:]), (10 - done) * 2 * seconds_per_tool
        forecast = event.forecast
        assert forecast.subtasks_left == 10 - done and forecast.based_on == done - 1
        assert forecast.cost_usd == pytest.approx(left_cost, rel=0.2)
        assert forecast.seconds == pytest.approx(left_time, rel=0.2)
    assert usage[-1].forecast.text() == "nothing left"
