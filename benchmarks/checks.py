"""One contained check: a CLI started for it (as every check was) vs a turn of the lane's
kept check session, rounds interleaved, both through the real CLI in its sandbox.

``python3 -m benchmarks.checks [ROUNDS]`` (default 12).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from agent_tui.auth.profiles import ProfileStore
from agent_tui.config import ContainmentMode, Settings
from agent_tui.engine.checks.runner import ContainedRunner
from agent_tui.engine.clock import RealClock
from agent_tui.engine.sandbox.containment import Containment, check_sandbox
from benchmarks.common import parser

COMMAND = "python3 -c 'print(open(\"data.txt\").read())'"


async def timed(runner: ContainedRunner, containment: Containment, project: Path) -> float:
    start = time.perf_counter()
    done = await runner.run(containment, COMMAND, project, 60)
    assert done.exit_status == 0 and "hello" in done.output, done
    return time.perf_counter() - start


async def main(rounds: int) -> None:
    sandbox = check_sandbox()
    if not sandbox.available:
        raise SystemExit(f"the sandbox cannot start here: {'; '.join(sandbox.missing)}")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        spec_dir = project / ".auto-claude" / "specs" / "001-bench"
        spec_dir.mkdir(parents=True)
        (project / "data.txt").write_text("hello\n")
        home = Path(tmp) / "home"
        home.mkdir()
        settings = Settings(containment=ContainmentMode.REQUIRED)
        containment = Containment.build(
            settings, ProfileStore.in_memory([]), project, spec_dir, sandbox
        )
        env = {"HOME": str(home)}
        kept = ContainedRunner(env=env, clock=RealClock())
        await timed(kept, containment, project)  # its start, and the SDK's import
        fresh_times, kept_times = [], []
        try:
            for _ in range(rounds):
                fresh = ContainedRunner(env=env, clock=RealClock())
                try:
                    fresh_times.append(await timed(fresh, containment, project))
                finally:
                    await fresh.close()
                kept_times.append(await timed(kept, containment, project))
        finally:
            await kept.close()
    f, k = statistics.median(fresh_times), statistics.median(kept_times)
    print(
        f"a check: a CLI started for it {f * 1000:.0f} ms, a turn of the kept session "
        f"{k * 1000:.0f} ms, {f / k:.1f}x ({rounds} rounds, medians)"
    )


if __name__ == "__main__":
    command = parser(__doc__, "checks")
    command.add_argument("rounds", nargs="?", type=int, default=12)
    asyncio.run(main(command.parse_args().rounds))
