"""When work waiting in the merge queue goes back, the tries started on it cannot be merged:
each one's session is ended at once (a try not yet in its session never starts one), and
the others are left alone.  So it is when the entry is dropped, its subtask no longer to be
completed (reset while it waited)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from types import SimpleNamespace

from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.failures.policy import Role
from agent_tui.engine.progress.history import AttemptHistory
from agent_tui.engine.schedule.attempt import Attempt
from agent_tui.engine.stages.coder import CoderStage
from agent_tui.engine.stages.merge import MergeQueue, Queued
from agent_tui.plan import ImplementationPlan, Subtask


class Session:
    def __init__(self) -> None:
        self.terminated = False

    async def run(self) -> SessionOutcome:
        raise AssertionError("not run here")

    async def interrupt(self) -> bool:
        return True

    async def terminate(self) -> None:
        self.terminated = True


def attempt(subtask_id: str, lane: int, on: str, session: Session | None) -> Attempt:
    """A try at ``subtask_id`` in ``lane`` started on ``on`` ("ID@COMMIT")."""
    subtask = Subtask(id=subtask_id, description="d")
    base, commit = on.split("@")
    made = Attempt(Role.CODER, SimpleNamespace(id=lane), subtask, on=base, on_commit=commit)  # type: ignore[arg-type]
    made.session = session
    return made


async def test_only_sessions_built_on_the_work_that_went_back_are_ended():
    said: list[ev.Event] = []
    background: list[asyncio.Future] = []

    async def emit(event: ev.Event) -> None:
        said.append(event)

    def later(work) -> None:
        background.append(asyncio.ensure_future(work))

    control = SimpleNamespace(background=later)
    running = Session()
    on_it = attempt("1.2", 2, "1.1@c1", running)
    not_begun = attempt("1.3", 3, "1.1@c1", None)
    elsewhere_session = Session()
    elsewhere = attempt("2.2", 4, "2.1@c2", elsewhere_session)
    ended_session = Session()
    ended = attempt("1.4", 1, "1.1@c1", ended_session)
    ended.outcome = SessionOutcome(outcome="success")
    older_session = Session()
    older = attempt("1.5", 5, "1.1@c0", older_session)  # on another entry of 1.1's
    attempts = {a.subtask_id: a for a in (on_it, not_begun, elsewhere, ended, older)}
    parts = SimpleNamespace(
        config=None, control=control, retries=None, tracker=None, history=None, emit=emit,
        checkpoints=None, attempts=attempts,
    )  # fmt: skip
    stage = CoderStage(parts)

    await stage.cut_stacked_on("1.1", "c1", "conflicts in shared.txt")
    await asyncio.gather(*background)

    why = "stopped: it built on 1.1's work, which did not merge"
    assert (on_it.cut, not_begun.cut) == (why, why)
    assert running.terminated
    assert elsewhere.cut is None and not elsewhere_session.terminated
    assert ended.cut is None and not ended_session.terminated  # its session is over
    assert older.cut is None and not older_session.terminated
    assert [e.message for e in said if isinstance(e, ev.Notice)] == [
        "lane 2: 1.2's session is stopped; it built on 1.1's work, which went back "
        "(conflicts in shared.txt)",
        "lane 3: 1.3's session is stopped; it built on 1.1's work, which went back "
        "(conflicts in shared.txt)",
    ]

    said.clear()
    await stage.cut_stacked_on("1.1", "c1", "again")  # asked twice: said once
    assert said == []


class Coder:
    """The coder stage as the queue calls it: which cuts it was asked for."""

    def __init__(self) -> None:
        self.cuts: list[tuple[str, str, str]] = []

    async def cut_stacked_on(self, subtask_id: str, commit: str, why: str) -> None:
        self.cuts.append((subtask_id, commit, why))


class Branch:
    def __init__(self) -> None:
        self.let_go: list[str] = []

    async def let_go_ref(self, ref: str) -> None:
        self.let_go.append(ref)


async def test_a_merge_dropped_because_its_subtask_was_reset_stops_what_was_built_on_it(
    tmp_path,
):
    plan = ImplementationPlan.model_validate(
        {
            "feature": "f",
            "phases": [
                {
                    "id": "1",
                    "name": "one",
                    "subtasks": [
                        {"id": "1.1", "description": "a", "status": "pending"},  # reset
                        {"id": "1.2", "description": "b", "status": "in_progress"},
                    ],
                }
            ],
        }
    )
    history = AttemptHistory(tmp_path)
    entry = Queued("1.1", 1, "c1", "refs/agent-tui/keep/1.1", 3)
    history.queue_merge(asdict(entry))
    said: list[ev.Event] = []

    async def emit(event: ev.Event) -> None:
        said.append(event)

    branch = Branch()
    checkpoints = SimpleNamespace(let_go=branch.let_go_ref)
    parts = SimpleNamespace(
        config=None, control=SimpleNamespace(stopping=False), retries=None,
        tracker=SimpleNamespace(plan=plan), history=history, emit=emit,
        checkpoints=checkpoints,
    )  # fmt: skip
    coder = Coder()
    queue = MergeQueue(parts, coder=coder)  # type: ignore[arg-type]
    queue.waiting["1.1"] = entry

    await queue._merge_some([entry])

    why = "no longer to be completed"
    assert coder.cuts == [("1.1", "c1", why)]
    ended = [e for e in said if isinstance(e, lev.MergeEnded)]
    assert [(e.subtask_id, e.outcome, e.message) for e in ended] == [
        ("1.1", lev.MergeOutcome.DROPPED, why)
    ]
    assert branch.let_go == ["refs/agent-tui/keep/1.1"]  # its kept commit is let go
    assert queue.idle and AttemptHistory(tmp_path).queued_merges() == []
