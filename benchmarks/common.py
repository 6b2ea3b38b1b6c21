"""Shared pieces for the benchmarks: plans of any size, and a scripted in-process session."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import resource
import struct
import termios
import time
from pathlib import Path

from agent_tui.engine.agents.claude.session import ClaudeSession
from agent_tui.engine.agents.protocol import SessionOutcome, SessionSpec
from agent_tui.engine.clock import RealClock
from agent_tui.engine.events import core as ev


def parser(doc: str | None, name: str) -> argparse.ArgumentParser:
    """The command line of ``python3 -m benchmarks.NAME``: its docstring is its ``--help``,
    and an argument it does not take is refused in one sentence, not run as the default."""
    return argparse.ArgumentParser(
        prog=f"python3 -m benchmarks.{name}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def big_plan(subtasks: int, per_phase: int = 50) -> dict:
    phases = []
    for p in range(0, subtasks, per_phase):
        phase_id = str(p // per_phase + 1)
        phases.append(
            {
                "id": phase_id,
                "name": f"Phase {phase_id}",
                "depends_on": [],
                "subtasks": [
                    {
                        "id": f"{phase_id}.{i}",
                        "description": f"subtask {phase_id}.{i}",
                        "status": "pending",
                    }
                    for i in range(min(per_phase, subtasks - p))
                ],
            }
        )
    return {"feature": "benchmark", "phases": phases}


def write_spec(root: Path, subtasks: int) -> tuple[Path, Path]:
    spec = root / "project" / ".auto-claude" / "specs" / "001-bench"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "implementation_plan.json").write_text(json.dumps(big_plan(subtasks)))
    return root / "project", spec


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plan_view(plan: dict) -> ev.PlanLoaded:
    phases = tuple(
        ev.PhaseView(
            id=p["id"],
            name=p["name"],
            subtasks=tuple(
                ev.SubtaskView(
                    id=s["id"], description=s["description"], status=s["status"], phase_id=p["id"]
                )
                for s in p["subtasks"]
            ),
        )
        for p in plan["phases"]
    )
    total = sum(len(p.subtasks) for p in phases)
    return ev.PlanLoaded(
        spec_dir="/bench", feature="bench", phases=phases, total=total, completed=0
    )


DONE = SessionOutcome(outcome="success")


def pty_size(fd: int, columns: int, lines: int) -> None:
    """Give the terminal behind ``fd`` a size, as a terminal emulator would."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))


async def timed_session(spec: SessionSpec) -> float:
    """Seconds one real session (the bundled CLI, against a sim) takes through the engine."""

    async def sink(event: ev.Event) -> None:
        pass

    start = time.perf_counter()
    outcome = await ClaudeSession(spec, sink, RealClock()).run()
    assert outcome.ok, outcome
    return time.perf_counter() - start


def stop_runs(state_dir: Path, timeout_s: float = 30.0) -> None:
    """Stop every run process whose record is in ``state_dir`` (``agent-tui run`` leaves its
    run going when its app is killed), and wait until each has gone."""
    import os
    import signal

    pids = []
    for path in (state_dir / "runs").glob("*.json"):
        record = json.loads(path.read_text())
        if record.get("state") != "finished":
            with contextlib.suppress(ProcessLookupError):
                os.kill(record["pid"], signal.SIGTERM)
                pids.append(record["pid"])
    deadline = time.monotonic() + timeout_s
    for pid in pids:
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.05)
