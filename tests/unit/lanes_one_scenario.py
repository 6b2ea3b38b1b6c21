"""One scripted run through the loop that ``--lanes 1`` must replay event for event: a
completed subtask, an overloaded API paused for, an incomplete try, a rate limit that moves
to the other profile, a subtask stuck after its tries, a note, the end.  Its events as the
engine before lanes made them are ``data/lanes_one_golden.json``; regenerate only from that
engine (``python3 -m tests.unit.lanes_one_scenario OUT`` run in its checkout)."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from agent_tui.engine.agents.protocol import SessionOutcome
from agent_tui.engine.failures.kinds import ErrorKind
from tests.unit.loop_harness import make_setup, mark_completed, write_plan

NEW_FIELDS = {"ts", "lane", "sessions", "transcript", "spec_dir", "diff", "home_readable"}
"""Fields a later version added, or that name a temp path: not compared."""


def behaviour(plan_path: Path):
    def decide(spec, n: int) -> SessionOutcome:
        if spec.subtask_id == "1.1" and n == 1:
            return SessionOutcome(outcome="error", error_kind=ErrorKind.OTHER, message="boom")
        if spec.subtask_id == "1.2" and n == 3:
            return SessionOutcome(outcome="success", cost_usd=0.01)  # not completed
        if spec.subtask_id == "1.3" and n == 5:
            return SessionOutcome(outcome="error", error_kind=ErrorKind.RATE_LIMIT, message="limit")
        if spec.subtask_id == "1.4":
            return SessionOutcome(outcome="success")  # never completed: stuck after its tries
        mark_completed(plan_path, spec.subtask_id)
        return SessionOutcome(outcome="success", cost_usd=0.01, input_tokens=10, output_tokens=5)

    return decide


async def record(tmp_path: Path, **config: Any) -> list[dict[str, Any]]:
    setup = make_setup(tmp_path)
    write_plan(setup.spec_dir, ["1.1", "1.2", "1.3", "1.4", "1.5"])
    plan_path = setup.spec_dir / "implementation_plan.json"
    loop, _ = setup(behaviour(plan_path), auto_switch=True, **config)
    loop.add_note("Keep it small.")
    await loop.run()
    return [
        {"type": e.type, **{k: v for k, v in e.to_dict().items() if k not in NEW_FIELDS}}
        for e in setup.events
    ]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        events = asyncio.run(record(Path(scratch)))
    Path(sys.argv[1]).write_text(json.dumps(events, indent=1, default=str) + "\n")
