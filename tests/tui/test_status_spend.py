"""The status line's spend while a session runs: the run's cost, its tokens and the budget
closest to its limit move with each reply's estimate (``session_spend``), and each
session's end (``usage``) makes them exact.  The engine is the real loop, with its ledger
and budgets; only the sessions are scripted, saying their spend as the CLI's replies do."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from agent_tui.cli.demo import create_workspace
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import spend as sev
from agent_tui.engine.loop import LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.tui.app import AgentApp
from tests.tui.conftest import PassingChecks, ScriptedSessions, scripted_loop, wait_until

REPLIES = ((0.02, 1000, 100), (0.06, 3000, 250))
"""A session's spend after each of its replies: cost so far, input and output tokens."""


class SpendingSessions(ScriptedSessions):
    """Scripted sessions that say their spend after each of two replies, then wait for
    ``go[subtask]`` before they end as the scripted ones do ($0.05, 5000 in, 300 out)."""

    def __init__(self, plan_path) -> None:
        super().__init__(plan_path)
        self.go: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.replied: list[str] = []

    def __call__(self, spec, emit, clock):
        scripted = super().__call__(spec, emit, clock)
        sessions = self

        class Session:
            async def run(self):
                for cost, tokens_in, tokens_out in REPLIES:
                    await emit(
                        sev.SessionSpend(
                            session=spec.number, cost_usd=cost, input_tokens=tokens_in,
                            output_tokens=tokens_out, model=spec.model, lane=spec.lane,
                        )
                    )  # fmt: skip
                sessions.replied.append(spec.subtask_id)
                await sessions.go[spec.subtask_id].wait()
                return await scripted.run()

            async def interrupt(self) -> bool:
                sessions.go[spec.subtask_id].set()
                return await scripted.interrupt()

        return Session()


async def test_tokens_and_the_budget_follow_each_reply_and_are_exact_at_its_end(tmp_path):
    workspace = create_workspace(tmp_path / "spend")
    sessions = SpendingSessions(workspace.spec_dir / "implementation_plan.json")
    config = LoopConfig(
        project_dir=workspace.project_dir,
        spec_dir=workspace.spec_dir,
        model="claude-sonnet-4-5",
        pause_between_s=0.0,
        sandbox=SandboxCheck(),
        max_spend_usd=1.0,
        monthly_budget_usd=0.5,  # the tighter: the one shown
    )
    events: list[ev.Event] = []
    clock = VirtualClock(auto_advance=False)
    make_loop = scripted_loop(config, workspace, sessions, PassingChecks(), clock, events)
    app = AgentApp(make_loop, title="agent-tui demo", clock=clock)
    try:
        async with app.run_test(size=(220, 34)) as pilot:
            status = app.main_screen.status

            async def shown_after(subtask: str, tokens: str, budget: str, cost: str) -> None:
                await wait_until(pilot, lambda: subtask in sessions.replied, subtask)
                await wait_until(
                    pilot, lambda: status.text_of("tokens") == f"tokens {tokens}", tokens
                )
                profile = next(e.profile for e in events if isinstance(e, ev.SessionStarted))
                assert status.text_of("budget").startswith(
                    f"budget {budget[0]} of $0.50 profile {profile!r} monthly budget ("
                )
                assert status.text_of("budget").endswith(f" ({budget[1]})")
                assert f"{cost} this run" in status.text_of("cost")

            # 1.1's two replies: 3000 in, 250 out, $0.06 of the month's $0.50.
            await shown_after("1.1", "3.0k in · 250 out", ("$0.0600", "12%"), "$0.0600")
            sessions.go["1.1"].set()
            # 1.1 ended ($0.05, 5000 in, 300 out) and 1.2 has replied twice.
            await shown_after("1.2", "8.0k in · 550 out", ("$0.11", "22%"), "$0.11")
            usages = [e for e in events if isinstance(e, ev.Usage)]
            assert [u.total_input_tokens for u in usages] == [5000]  # one session has ended
            sessions.go["1.2"].set()
            await shown_after("1.3", "13.0k in · 850 out", ("$0.16", "32%"), "$0.16")
            await pilot.press("ctrl+c")
            await wait_until(pilot, lambda: app.exit_code is not None, "the exit")
    finally:
        workspace.release()
