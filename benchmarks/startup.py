"""Start-up to first frame: `agent-tui run` on a 500-subtask plan vs a bare Textual app.

Both are launched as fresh processes in a 120x40 pseudo-terminal, as a user launches them,
and timed from the launch to the first frame that shows their content: the bare app's
text, and our app's populated subtask tree.  Interpreter start and imports count, because a
user waits for them too.  A profile is active, as after ``profiles add``, so its credentials
are looked up as on every real start.  The spec holds a PAUSE file, so the loop shows the
plan and waits instead of starting a session.  Target: ratio <= 1.3x.

Our modules are byte-compiled first, as ``pip install`` does: a checkout imported with
``PYTHONDONTWRITEBYTECODE`` set (as on some CI images) would otherwise compile them from
source on every launch, which no installed copy does.

A second figure, in-process (imports already done, Textual's ``run_test``), isolates the cost
of composing and painting the screen.
"""

from __future__ import annotations

import asyncio
import compileall
import gc
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import parser, pty_size, stop_runs, write_spec

ROUNDS = 15
SUBTASKS = 500
TIMEOUT_S = 30.0
COLUMNS, LINES = 120, 40

BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Header, Static


class BareApp(App):
    def compose(self):
        yield Header()
        yield Static("bare first frame")
        yield Footer()


BareApp().run()
"""


def launch_to_marker(
    argv: list[str], marker: bytes, env: dict[str, str], then: bytes | None = None
) -> float:
    """Seconds from launching ``argv`` in a pty to ``marker`` appearing on its screen.

    ``then``: wait (untimed) for this too, and quit with ``q`` rather than a kill: ``agent-tui
    run`` starts its run in a process of its own, which must be stopped before the next round
    (it holds the spec)."""
    master, slave = os.openpty()
    pty_size(slave, COLUMNS, LINES)
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        while marker not in seen:
            if time.perf_counter() - start > TIMEOUT_S:
                raise RuntimeError(f"{argv[1:]} showed no {marker!r} in {TIMEOUT_S:g} s")
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                seen = seen[-len(marker) :] + os.read(master, 65536)
        took = time.perf_counter() - start
        if then is not None:
            _quit_when(master, then, process)
        return took
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        os.close(master)


def _quit_when(master: int, shown: bytes, process: subprocess.Popen) -> None:
    seen = b""
    deadline = time.perf_counter() + TIMEOUT_S
    while shown not in seen and time.perf_counter() < deadline:
        if select.select([master], [], [], 0.5)[0]:
            seen = seen[-len(shown) :] + os.read(master, 65536)
    os.write(master, b"q")
    while process.poll() is None and time.perf_counter() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            try:
                os.read(master, 65536)
            except OSError:
                break


def agent_workspace(root: Path) -> tuple[list[str], dict[str, str]]:
    project, spec = write_spec(root, SUBTASKS)
    (spec / "PAUSE").write_text("")
    claude_dir = root / "claude"
    claude_dir.mkdir()
    (claude_dir / ".credentials.json").write_text(
        json.dumps(
            {
                "claudeAiOauth": {
                    "accessToken": "sk-ant-oat01-benchmark-not-real",
                    "scopes": ["user:inference"],
                }
            }
        )
    )
    config_dir = root / "config"
    config_dir.mkdir()
    (config_dir / "profiles.json").write_text(
        json.dumps(
            {"profiles": [{"name": "bench", "config_dir": str(claude_dir)}], "active": "bench"}
        )
    )
    env = dict(
        os.environ,
        AGENT_TUI_CONFIG_DIR=str(config_dir),
        AGENT_TUI_STATE_DIR=str(root / "state"),
        TERM="xterm-256color",
    )
    argv = [sys.executable, "-m", "agent_tui.cli", "run", "--project", str(project)]
    return argv, env


def end_to_end() -> tuple[float, float, float]:
    """Medians of the bare app's and our launch-to-frame times, and of their ratio per round.

    Each round launches both back to back, so the ratio per round is the steadier figure on
    a machine whose speed drifts between rounds."""
    import agent_tui

    compileall.compile_dir(Path(agent_tui.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bare_script = root / "bare_app.py"
        bare_script.write_text(BARE_APP)
        agent_argv, agent_env = agent_workspace(root)
        bare_env = dict(os.environ, TERM="xterm-256color")
        bare, agent = [], []
        for _ in range(ROUNDS):
            bare.append(
                launch_to_marker([sys.executable, str(bare_script)], b"bare first", bare_env)
            )
            agent.append(
                launch_to_marker(agent_argv, b"subtask 1.1", agent_env, then=b"PAUSE file")
            )
            stop_runs(root / "state")
    ratios = [a / b for a, b in zip(agent, bare, strict=True)]
    return statistics.median(bare), statistics.median(agent), statistics.median(ratios)


async def in_process() -> tuple[float, float]:
    """Seconds from ``run_test`` to the first frame that shows the content, imports done.

    A frame is a call of ``App._display`` with something to draw (Textual's private hook,
    the one place every frame passes; headless mode stops right after it).  Our side starts
    before reading the plan, as ``agent-tui run`` reads it before the app starts, and counts
    only a frame with the whole plan in the tree.
    """
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    from agent_tui.auth.profiles import ProfileStore
    from agent_tui.engine.clock import VirtualClock
    from agent_tui.engine.loop import CoderLoop, LoopConfig
    from agent_tui.engine.progress.history import AttemptHistory
    from agent_tui.engine.progress.views import plan_view
    from agent_tui.plan import load_plan
    from agent_tui.tui.app import AgentApp

    shown: dict[App, float] = {}

    class BareApp(App):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("bare first frame")
            yield Footer()

        def _display(self, screen, renderable) -> None:
            if renderable is not None:
                shown.setdefault(self, time.perf_counter())
            super()._display(screen, renderable)

    class TimedAgentApp(AgentApp):
        def _display(self, screen, renderable) -> None:
            if renderable is not None and self.main_screen.plan_tree.counts()[1] == SUBTASKS:
                shown.setdefault(self, time.perf_counter())
            super()._display(screen, renderable)

    async def once(make_app: Callable[[], App]) -> float:
        gc.collect()
        gc.freeze()  # as run_app does before the real app starts
        start = time.perf_counter()
        app = make_app()
        async with app.run_test(size=(COLUMNS, LINES)) as pilot:
            while app not in shown:
                await pilot.pause()
            if isinstance(app, AgentApp) and app.loop is not None:
                app.loop.stop()
        gc.unfreeze()
        return shown[app] - start

    with tempfile.TemporaryDirectory() as tmp:
        project, spec = write_spec(Path(tmp), SUBTASKS)
        (spec / "PAUSE").write_text("")
        config = LoopConfig(project_dir=project, spec_dir=spec, pause_between_s=0)

        def make_loop(sink):
            return CoderLoop(config, ProfileStore.in_memory([]), sink, clock=VirtualClock())

        def make_agent_app() -> App:
            """As ``agent-tui run`` does: the plan it checked fills the first frame."""
            plan = load_plan(spec / "implementation_plan.json")
            view = plan_view(plan, spec, AttemptHistory(spec))
            return TimedAgentApp(make_loop, clock=VirtualClock(), plan=view)

        bare, agent = [], []
        for _ in range(ROUNDS):
            bare.append(await once(BareApp))
            agent.append(await once(make_agent_app))
    return statistics.median(bare), statistics.median(agent)


def main() -> None:
    b, a, ratio = end_to_end()
    print(
        f"startup, launch to first frame: bare Textual app {b * 1000:.0f} ms, "
        f"agent-tui with a 500-subtask plan {a * 1000:.0f} ms, ratio {ratio:.2f}x "
        "(median of the rounds' ratios)"
    )
    b, a = asyncio.run(in_process())
    print(
        f"startup, in-process (imports done): bare {b * 1000:.0f} ms, "
        f"agent-tui {a * 1000:.0f} ms, ratio {a / b:.2f}x"
    )


if __name__ == "__main__":
    parser(__doc__, "startup").parse_args()
    main()
