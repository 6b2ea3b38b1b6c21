"""Supervisor cost per subtask over a long run, containment on (target: <= 1.5 s, flat).

A whole run of the real engine on a git project: each subtask is one real session of the
bundled CLI against the sim (it writes a file and marks its subtask completed), then its
check, run contained as the agent's Bash, then its commit.  What agent-tui itself spends
around each session (the spec sync, the check, the commit, the plan and history writes,
the rollback check, the next session's set-up) is the time from one session's start to
the next one's, less the session.  Windows of the run are compared: the cost must not grow
with the run.  The final check of every completed subtask is timed too, and the event
loop's longest stall (a task that asks to wake every 20 ms and notes how late it woke).

``python3 -m benchmarks.supervisor [SUBTASKS] [LANES] [--scripted]`` (default 200 subtasks,
one lane).  ``--scripted``: each session is a stand-in that does the same edits at once,
without a CLI (the checks still run through the real one): a quicker, longer run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.config import ContainmentMode
from agent_tui.engine.agents.protocol import SessionOutcome, SessionSpec
from agent_tui.engine.agents.transcript import Transcript
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.plan import status_in_text
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from benchmarks.common import parser

TOKEN_ENV = "AGENT_TUI_BENCH_TOKEN"
PER_PHASE = 50
WINDOW = 20
PROBE_S = 0.02


def subtask_ids(count: int) -> list[str]:
    return [f"{n // PER_PHASE + 1}.{n % PER_PHASE + 1}" for n in range(count)]


def out_name(subtask_id: str) -> str:
    return "out_" + subtask_id.replace(".", "_") + ".txt"


def plan(ids: list[str]) -> dict[str, Any]:
    phases: dict[str, list[dict[str, Any]]] = {}
    for sid in ids:
        phases.setdefault(sid.split(".")[0], []).append(
            {
                "id": sid,
                "description": f"make {out_name(sid)}",
                "status": "pending",
                "files_to_create": [out_name(sid)],
                "verification": {
                    "type": "command",
                    "command": f"cat {out_name(sid)}",
                    "expected": sid,
                },
            }
        )
    return {
        "feature": "benchmark",
        "phases": [
            {"id": pid, "name": f"Phase {pid}", "depends_on": [], "subtasks": subtasks}
            for pid, subtasks in phases.items()
        ],
    }


def scripts(ids: list[str]) -> list[dict[str, Any]]:
    """Each subtask's one session: write its file, read the plan, mark it completed."""
    return [
        {
            "match": rf"Subtask ID: {sid.replace('.', chr(92) + '.')}\b",
            "sessions": [
                [
                    {
                        "text": f"Working on {sid}.",
                        "tools": [
                            {
                                "name": "Write",
                                "input": {
                                    "file_path": "{project}/" + out_name(sid),
                                    "content": sid + "\n",
                                },
                            }
                        ],
                    },
                    {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
                    {
                        "tools": [
                            {"name": "Edit", "set_status": {"subtask": sid, "status": "completed"}}
                        ]
                    },
                    {"text": f"Done with {sid}."},
                ]
            ],
        }
        for sid in ids
    ]


def git(repo: Path, *args: str) -> None:
    who = ("-c", "user.name=Bench", "-c", "user.email=bench@example.com")
    subprocess.run(["git", *who, *args], cwd=repo, check=True, capture_output=True)


def make_project(root: Path, ids: list[str]) -> tuple[Path, Path]:
    project = root / "project"
    spec_dir = project / ".auto-claude" / "specs" / "001-bench"
    spec_dir.mkdir(parents=True)
    git(project, "init", "--quiet", "--initial-branch=main")
    (project / "README.md").write_text("# bench\n")
    (project / ".gitignore").write_text(".auto-claude/\n")
    (spec_dir / "spec.md").write_text("# the spec\n")
    (spec_dir / "implementation_plan.json").write_text(json.dumps(plan(ids), indent=2) + "\n")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "start")
    return project, spec_dir


class ScriptedSession:
    """A session that writes its subtask's file and marks it completed in the worktree's
    plan copy, as the sim's script has the CLI do, and reports one tool result."""

    def __init__(self, spec: SessionSpec, emit: ev.EventSink, clock: Any) -> None:
        self.spec = spec
        self._emit = emit

    async def run(self) -> SessionOutcome:
        spec = self.spec
        transcript = Transcript(spec.transcript_path)
        transcript.write("prompt", {"kind": spec.kind, "subtask_id": spec.subtask_id})
        await asyncio.to_thread(self._edit)  # the CLI's work, not agent-tui's loop's
        await self._emit(
            ev.ToolResult(
                session=spec.number,
                lane=spec.lane,
                tool_use_id="t",
                is_error=False,
                summary="edited the plan",
            )
        )
        outcome = SessionOutcome(outcome="success")
        transcript.write("outcome", outcome)
        transcript.close()
        return outcome

    def _edit(self) -> None:
        sid, cwd = self.spec.subtask_id or "", self.spec.cwd
        (cwd / out_name(sid)).write_text(sid + "\n")
        plan_copy = cwd / ".auto-claude" / "specs" / "001-bench" / "implementation_plan.json"
        plan_copy.write_text(status_in_text(plan_copy.read_text(), sid, "completed"))

    async def interrupt(self) -> bool:
        return True

    async def terminate(self) -> None:
        pass


class Recorder:
    """Every event with the time it arrived."""

    def __init__(self) -> None:
        self.events: list[tuple[float, ev.Event]] = []

    async def __call__(self, event: ev.Event) -> None:
        self.events.append((time.perf_counter(), event))

    def of(self, cls: type) -> list[tuple[float, Any]]:
        return [(t, e) for t, e in self.events if isinstance(e, cls)]


async def probe_lag(lags: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time()
        await asyncio.sleep(PROBE_S)
        lags.append(loop.time() - asked - PROBE_S)


def costs(recorder: Recorder) -> list[tuple[str, float, float]]:
    """Per session: its subtask, the supervisor's time around it, and its check's time."""
    started = recorder.of(ev.SessionStarted)
    ended = {e.session: t for t, e in recorder.of(ev.SessionEnded)}
    checks: dict[str, float] = {}
    check_start: dict[str, float] = {}
    for t, e in recorder.events:
        if isinstance(e, tev.VerificationStarted):
            check_start[e.subtask_id] = t
        elif isinstance(e, tev.VerificationEnded) and e.subtask_id in check_start:
            checks.setdefault(e.subtask_id, t - check_start.pop(e.subtask_id))
    rows = []
    for (t0, first), (t1, _) in itertools.pairwise(started):
        session_s = ended[first.session] - t0
        rows.append((first.subtask_id or "", t1 - t0 - session_s, checks.get(first.subtask_id, 0)))
    return rows


def windows(rows: list[tuple[str, float, float]]) -> list[tuple[int, float, float]]:
    found = []
    for start in range(0, len(rows), WINDOW):
        part = rows[start : start + WINDOW]
        if len(part) < WINDOW // 2:
            break
        found.append(
            (
                start + 1,
                statistics.median(r[1] for r in part),
                statistics.median(r[2] for r in part),
            )
        )
    return found


async def run(count: int, lanes: int, scripted: bool) -> None:
    ids = subtask_ids(count)
    with tempfile.TemporaryDirectory(prefix="agent-tui-bench-") as tmp:
        root = Path(tmp)
        home = root / "home"
        home.mkdir()
        for name in ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL"):
            os.environ.pop(name, None)
        for name in ("CONFIG", "STATE", "DATA"):
            os.environ[f"AGENT_TUI_{name}_DIR"] = str(root / name.lower())
        project, spec_dir = make_project(root, ids)
        scenario = Scenario.model_validate({"name": "bench", "scripts": scripts(ids)})
        config_dir = root / "claude-config"
        config_dir.mkdir()
        profile = Profile(name="bench", config_dir=str(config_dir), token_env=TOKEN_ENV)
        profiles = ProfileStore.in_memory([profile], active="bench")
        profiles.data.settings.containment = ContainmentMode.REQUIRED
        recorder = Recorder()
        with SimServer(scenario) as sim:
            config = LoopConfig(
                project_dir=project,
                spec_dir=spec_dir,
                model="claude-sonnet-4-5",
                pause_between_s=0.0,
                idle_timeout_s=120.0,
                pause_on_problem=False,
                lanes=lanes,
                worktrees_dir=root / "worktrees",
                extra_env={
                    "ANTHROPIC_BASE_URL": sim.base_url,
                    "CLAUDE_CODE_MAX_RETRIES": "0",
                    "HOME": str(home),
                },
            )
            loop = CoderLoop(
                config,
                profiles,
                recorder,
                environ={TOKEN_ENV: "sk-ant-api03-bench-key"},
                session_factory=ScriptedSession if scripted else None,
            )
            lags: list[float] = []
            stop = asyncio.Event()
            prober = asyncio.create_task(probe_lag(lags, stop))
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            wall0 = time.perf_counter()
            code = await loop.run()
            wall = time.perf_counter() - wall0
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            stop.set()
            await prober
        history = spec_dir / "memory" / "attempt_history.json"
        report(recorder, code, wall, cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime,
               lags, history.stat().st_size if history.exists() else 0, count)  # fmt: skip


def report(
    recorder: Recorder,
    code: int,
    wall: float,
    cpu: float,
    lags: list[float],
    history_bytes: int,
    count: int,
) -> None:
    finished = recorder.of(ev.LoopFinished)
    print(f"exit {code}: {finished[-1][1].message if finished else '?'}")
    rows = costs(recorder)
    print(f"{len(rows) + 1} sessions, {wall:.0f} s; agent-tui's own CPU {cpu / count:.2f} s each")
    print("subtasks   supervisor (median)   of it the check")
    found = windows(rows)
    for start, cost, check in found:
        span = f"{start:4}-{start + WINDOW - 1:<4}"
        print(f"{span}   {cost * 1000:8.0f} ms          {check * 1000:6.0f} ms")
    if found:
        first, last = found[0][1], found[-1][1]
        every = [r[1] for r in rows]
        print(
            f"all: median {statistics.median(every) * 1000:.0f} ms, "
            f"last window / first {last / first:.2f}x"
        )
    final = [t for t, e in recorder.of(ev.Notice) if e.message.startswith("final check")]
    if final and finished:
        checked = sum(1 for t, _ in recorder.of(tev.VerificationEnded) if t > final[0])
        spent = finished[-1][0] - final[0]
        each = spent / max(checked, 1) * 1000
        print(f"final check: {checked} checks in {spent:.1f} s ({each:.0f} ms each)")
    lags.sort()
    if lags:
        p99 = lags[int(len(lags) * 0.99)]
        print(f"event loop lag: p99 {p99 * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms")
    print(f"attempt history: {history_bytes} bytes")


def main() -> None:
    command = parser(__doc__, "supervisor")
    command.add_argument("subtasks", nargs="?", type=int, default=200)
    command.add_argument("lanes", nargs="?", type=int, default=1)
    command.add_argument("--scripted", action="store_true")
    args = command.parse_args()
    asyncio.run(run(args.subtasks, args.lanes, scripted=args.scripted))


if __name__ == "__main__":
    main()
