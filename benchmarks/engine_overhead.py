"""Engine overhead per session: ClaudeSession vs driving the SDK directly, same sim (target 5%)."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient

from agent_tui.config import ContainmentMode
from agent_tui.engine.agents.protocol import SessionSpec
from agent_tui.engine.sandbox.containment import Containment
from agent_tui.engine.sandbox.guard import Guard
from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer
from benchmarks.common import parser, timed_session

ROUNDS = 6


def unsandboxed(project: Path) -> Containment:
    return Containment(mode=ContainmentMode.OFF, sandboxed=False, project_dir=project)


PROMPT = "Subtask ID: 1.1\nProject directory: {project}\n"
STEPS = [
    {"text": "Reading.", "tools": [{"name": "Read", "input": {"file_path": "{project}/a.txt"}}]},
    {"text": "Done."},
]


async def direct(options: ClaudeAgentOptions, prompt: str) -> float:
    start = time.perf_counter()
    async with ClaudeSDKClient(options) as client:
        await client.query(prompt)
        async for _ in client.receive_response():
            pass
    return time.perf_counter() - start


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        (project / "a.txt").write_text("hello\n")
        home = Path(tmp) / "home"
        home.mkdir()
        prompt = PROMPT.format(project=project)
        scenario = Scenario.model_validate(
            {"scripts": [{"match": "Subtask ID", "sessions": [STEPS]}]}
        )
        with SimServer(scenario) as sim:
            env = {
                "ANTHROPIC_BASE_URL": sim.base_url,
                "ANTHROPIC_API_KEY": "sk-ant-api03-bench",
                "HOME": str(home),
                "CLAUDE_CONFIG_DIR": str(home / "cfg"),
                "CLAUDE_CODE_MAX_RETRIES": "0",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            }
            options = ClaudeAgentOptions(
                cwd=str(project),
                env=env,
                permission_mode="acceptEdits",
                allowed_tools=["Read"],
                model="claude-sonnet-4-5",
            )
            raw, ours = [], []
            for n in range(ROUNDS):
                raw.append(await direct(options, prompt))
                spec = SessionSpec(
                    number=n + 1,
                    kind="coder",
                    subtask_id="1.1",
                    prompt=prompt,
                    cwd=project,
                    env=env,
                    guard=Guard(project),
                    containment=unsandboxed(project),  # the sandbox is timed in containment.py
                    model="claude-sonnet-4-5",
                    transcript_path=Path(tmp) / "logs" / f"session-{n:03d}.jsonl",
                )
                ours.append(await timed_session(spec))
    r, o = statistics.median(raw), statistics.median(ours)
    print(
        f"engine overhead: SDK direct {r * 1000:.0f} ms, ClaudeSession {o * 1000:.0f} ms, "
        f"ratio {o / r:.3f}x ({(o / r - 1) * 100:+.1f}%)"
    )


if __name__ == "__main__":
    parser(__doc__, "engine_overhead").parse_args()
    asyncio.run(main())
