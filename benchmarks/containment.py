"""One session sandboxed vs unsandboxed, same sim, rounds interleaved (target: <= 10 % slower).

The session runs the calls a coder makes (Read, Bash twice, Write, Edit), so the sandbox's
start-up and each sandboxed command are in the figure, not only the CLI's start.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from pathlib import Path

from agent_tui.auth.profiles import ProfileStore
from agent_tui.config import ContainmentMode, Settings
from agent_tui.engine.agents.protocol import SessionSpec
from agent_tui.engine.sandbox.containment import Containment, check_sandbox
from agent_tui.engine.sandbox.guard import Guard
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from benchmarks.common import parser, timed_session

ROUNDS = 8
PROMPT = "Subtask ID: 1.1\nProject directory: {project}\n"
STEPS = [
    {"tools": [{"name": "Read", "input": {"file_path": "{project}/a.txt"}}]},
    {"tools": [{"name": "Bash", "input": {"command": "ls -la && cat a.txt"}}]},
    {"tools": [{"name": "Write", "input": {"file_path": "{project}/b.txt", "content": "b\n"}}]},
    {"tools": [{"name": "Bash", "input": {"command": "python3 -c 'print(1)'"}}]},
    {"text": "Done."},
]


def containment(mode: ContainmentMode, project: Path, spec_dir: Path) -> Containment:
    sandbox = check_sandbox()
    if mode is not ContainmentMode.OFF and not sandbox.available:
        raise SystemExit(f"the sandbox cannot start here: {'; '.join(sandbox.missing)}")
    settings = Settings(containment=mode)
    return Containment.build(settings, ProfileStore.in_memory([]), project, spec_dir, sandbox)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        spec_dir = project / ".auto-claude" / "specs" / "001-bench"
        (spec_dir / "logs").mkdir(parents=True)
        (spec_dir / "memory").mkdir()
        (project / "a.txt").write_text("hello\n")
        home = Path(tmp) / "home"
        home.mkdir()
        prompt = PROMPT.format(project=project)
        scenario = Scenario.model_validate(
            {"scripts": [{"match": "Subtask ID", "sessions": [STEPS]}]}
        )
        kinds = {
            "sandboxed": containment(ContainmentMode.REQUIRED, project, spec_dir),
            "unsandboxed": containment(ContainmentMode.OFF, project, spec_dir),
        }
        times: dict[str, list[float]] = {name: [] for name in kinds}
        with SimServer(scenario) as sim:
            env = {
                "ANTHROPIC_BASE_URL": sim.base_url,
                "ANTHROPIC_API_KEY": "sk-ant-api03-bench",
                "HOME": str(home),
                "CLAUDE_CONFIG_DIR": str(home / "cfg"),
                "CLAUDE_CODE_MAX_RETRIES": "0",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            }
            number = 0
            for _ in range(ROUNDS):
                for name, contained in kinds.items():  # interleaved: drift hits both alike
                    number += 1
                    spec = SessionSpec(
                        number=number,
                        kind="coder",
                        subtask_id="1.1",
                        prompt=prompt,
                        cwd=project,
                        env=env,
                        guard=Guard(project),
                        containment=contained,
                        model="claude-sonnet-4-5",
                        transcript_path=spec_dir / "logs" / f"session-{number:03d}.jsonl",
                    )
                    times[name].append(await timed_session(spec))
    on, off = statistics.median(times["sandboxed"]), statistics.median(times["unsandboxed"])
    print(
        f"containment: sandboxed {on * 1000:.0f} ms, unsandboxed {off * 1000:.0f} ms per "
        f"session (median of {ROUNDS}), ratio {on / off:.3f}x ({(on / off - 1) * 100:+.1f}%)"
    )


if __name__ == "__main__":
    parser(__doc__, "containment").parse_args()
    asyncio.run(main())
