"""Parallel lanes: a plan of 12 subtasks in 4 independent phases of 3, each session taking
about 3 s at the scripted model, each subtask with a check; wall time with 4 lanes vs 1 (target
≤ 0.35), a plan that is one chain with 4 lanes vs 1 (target ≤ 1.05), and agent-tui's own peak
RSS (the CLIs' not counted) with 4 lanes vs 1 (target ≤ 1.5).

Each run's CPU seconds (all its processes, the scripted model's too) are printed beside its
wall time: the 4-lane run cannot take less wall time than that CPU divided by the cores.

Each run is a fresh process (``python3 -m benchmarks.lanes ONE …``) so its peak RSS is its
own; the sim runs in this process.  Run from the repo root: ``python3 -m benchmarks.lanes``.

To watch such a run in the app: ``python3 -m benchmarks.lanes --watch DIR`` makes the project
in DIR, serves the scripted model and prints the command that runs it with 4 lanes (in
another terminal); Ctrl+C stops the model.

``python3 -m benchmarks.lanes --check-s S`` runs the independent plan only, each check made
to take S seconds first (a real project's checks are not instant): where the merge queue's
re-checks and the final check set the pace rather than the sessions.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer

SESSION_S = 3.0
STEPS = 4
"""Write the file, read the plan, mark the subtask completed, a last word."""


def plan(chain: bool, check_s: float = 0.0) -> dict:
    wait = f"python3 -c 'import time; time.sleep({check_s:g})' && " if check_s else ""
    phases = []
    for p in range(1, 5):
        subtasks = [
            {
                "id": f"{p}.{i}",
                "description": f"make {p}.{i}",
                "status": "pending",
                "files_to_create": [f"f_{p}_{i}.txt"],
                "verification": {"type": "command", "command": f"{wait}test -e f_{p}_{i}.txt"},
            }
            for i in range(1, 4)
        ]
        deps = [str(p - 1)] if chain and p > 1 else []
        phases.append(
            {"id": str(p), "name": f"Phase {p}", "depends_on": deps, "subtasks": subtasks}
        )
    return {"feature": "lanes benchmark", "phases": phases}


def scenario() -> dict:
    pace = SESSION_S / STEPS
    scripts = []
    for p in range(1, 5):
        for i in range(1, 4):
            sid = f"{p}.{i}"
            steps = [
                {
                    "delay_s": pace,
                    "tools": [
                        {
                            "name": "Write",
                            "input": {"file_path": "{project}/" + f"f_{p}_{i}.txt", "content": sid},
                        }
                    ],
                },
                {"delay_s": pace, "tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
                {
                    "delay_s": pace,
                    "tools": [
                        {"name": "Edit", "set_status": {"subtask": sid, "status": "completed"}}
                    ],
                },
                {"delay_s": pace, "text": "Done."},
            ]
            scripts.append({"match": rf"Subtask ID: {p}\.{i}\b", "sessions": [steps]})
    return {"name": "lanes", "scripts": scripts}


def project(root: Path, chain: bool, check_s: float = 0.0) -> Path:
    path = root / "project"
    spec = path / ".auto-claude" / "specs" / "001-lanes"
    spec.mkdir(parents=True)
    (spec / "implementation_plan.json").write_text(json.dumps(plan(chain, check_s), indent=2))
    (path / ".gitignore").write_text(".auto-claude/\n")
    (path / "README.md").write_text("# bench\n")
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "start"],
    ):
        subprocess.run(["git", *args], cwd=path, check=True)
    return path


def cpu_s(who: int) -> float:
    used = resource.getrusage(who)
    return used.ru_utime + used.ru_stime


def one_run(
    base_url: str, root: Path, lanes: int, chain: bool, check_s: float = 0.0
) -> tuple[float, float, int, float]:
    """Wall seconds, agent-tui's peak RSS (MB), the exit code of one headless run, and the
    CPU seconds it took: its processes' (agent-tui, the CLIs, their sandboxes, git) and this
    process's, which serves the scripted model."""
    path = project(root, chain, check_s)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_"))}
    env.update(
        {
            "ANTHROPIC_BASE_URL": base_url,
            "ANTHROPIC_API_KEY": "sk-ant-api03-bench",
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "HOME": str(root / "home"),
            "AGENT_TUI_CONFIG_DIR": str(root / "cfg"),
            "AGENT_TUI_DATA_DIR": str(root / "data"),
            "AGENT_TUI_STATE_DIR": str(root / "state"),
        }
    )
    (root / "home").mkdir()
    (root / "cfg").mkdir()
    (root / "cfg" / "profiles.json").write_text('{"settings": {"pause_between_s": 0}}')
    cpu_before = cpu_s(resource.RUSAGE_CHILDREN) + cpu_s(resource.RUSAGE_SELF)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.lanes", "ONE", str(path), str(lanes)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    cpu = cpu_s(resource.RUSAGE_CHILDREN) + cpu_s(resource.RUSAGE_SELF) - cpu_before
    rss = float(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else 0.0
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
    return wall, rss, done.returncode, cpu


def run_child(project_dir: str, lanes: str) -> None:
    """In the child: one headless run; its own peak RSS (children apart) on stdout."""
    from agent_tui.cli.commands import main

    sys.argv = ["agent-tui", "run", "--project", project_dir, "--headless", "--events", "jsonl"]
    sys.argv += ["--model", "claude-sonnet-4-5", "--lanes", lanes]
    with open(os.devnull, "w") as null:
        real, sys.stdout = sys.stdout, null
        code = main()
        sys.stdout = real
    if code != 0:
        raise SystemExit(code)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main(check_s: float = 0.0) -> None:
    shapes = ("independent",) if check_s else ("independent", "chain")
    with SimServer(Scenario.model_validate(scenario())) as sim:
        figures: dict[tuple[str, int], tuple[float, float, float]] = {}
        for shape in shapes:
            for lanes in (1, 4):
                with tempfile.TemporaryDirectory() as scratch:
                    wall, rss, code, cpu = one_run(
                        sim.base_url, Path(scratch), lanes, shape == "chain", check_s
                    )
                assert code == 0, f"{shape} with {lanes} lanes exited {code}"
                figures[(shape, lanes)] = (wall, rss, cpu)
                print(
                    f"{shape:12} lanes={lanes}: {wall:6.1f} s, agent-tui peak RSS {rss:.0f} MB, "
                    f"CPU {cpu:.1f} s"
                )
    one, four = figures[("independent", 1)], figures[("independent", 4)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"4 lanes, independent: {four[2]:.1f} s of CPU, so at least {four[2] / (cores or 1):.1f} s "
        f"of wall on {cores} cores, were the work spread perfectly"
    )
    if check_s:
        print(f"checks of {check_s:g} s: 4 lanes / 1 lane = {four[0] / one[0]:.2f}")
        return
    chain_one, chain_four = figures[("chain", 1)], figures[("chain", 4)]
    print(f"4 independent phases: 4 lanes / 1 lane = {four[0] / one[0]:.2f} (target <= 0.35)")
    print(f"one chain: 4 lanes / 1 lane = {chain_four[0] / chain_one[0]:.2f} (target <= 1.05)")
    print(f"peak RSS: 4 lanes / 1 lane = {four[1] / one[1]:.2f} (target <= 1.5)")


def watch(where: str) -> None:
    """Serve the scripted model for a 4-lane run of the independent plan, run by hand."""
    root = Path(where).resolve()
    if (root / "project").exists():
        raise SystemExit(
            f"{root / 'project'} exists already (an earlier --watch?): give another DIR, or "
            "remove it"
        )
    root.mkdir(parents=True, exist_ok=True)
    path = project(root, chain=False)
    for name in ("home", "cfg"):
        (root / name).mkdir(exist_ok=True)
    with SimServer(Scenario.model_validate(scenario())) as sim:
        print(
            f"cd {path} && HOME={root}/home AGENT_TUI_CONFIG_DIR={root}/cfg "
            f"AGENT_TUI_DATA_DIR={root}/data AGENT_TUI_STATE_DIR={root}/state "
            f"ANTHROPIC_BASE_URL={sim.base_url} ANTHROPIC_API_KEY=sk-ant-api03-lanes "
            "CLAUDE_CODE_MAX_RETRIES=0 agent-tui run --project . --lanes 4 "
            "--model claude-sonnet-4-5",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "ONE":
        run_child(sys.argv[2], sys.argv[3])
    else:  # (imported here: the measured child imports no more than it did)
        from benchmarks.common import parser

        command = parser(__doc__, "lanes")
        which = command.add_mutually_exclusive_group()
        which.add_argument("--watch", metavar="DIR")
        which.add_argument("--check-s", metavar="S", type=float, default=0.0)
        args = command.parse_args()
        if args.watch:
            watch(args.watch)
        else:
            main(args.check_s)
