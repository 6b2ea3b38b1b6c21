"""Claude Code as the loop's agent: the factory of its sessions (an ``AgentFactory``)."""

from __future__ import annotations

from agent_tui.engine.agents.claude.process import CliLauncher, find_cli
from agent_tui.engine.agents.claude.session import ClaudeSession
from agent_tui.engine.agents.protocol import SessionSpec
from agent_tui.engine.clock import Clock
from agent_tui.engine.events import core as ev


class ClaudeAgent:
    """Makes each session a ``ClaudeSession`` on the bundled CLI (or ``cli_path``), started
    through a launcher of its lane's: a lane runs one CLI at a time, so one pid file per
    lane tells which process group to end."""

    def __init__(self, cli_path: str | None = None) -> None:
        self.cli = cli_path or find_cli()
        self._launchers: dict[int, CliLauncher] = {}

    def __call__(self, spec: SessionSpec, emit: ev.EventSink, clock: Clock) -> ClaudeSession:
        return ClaudeSession(
            spec, emit, clock, launcher=self._launcher(spec.lane), cli_path=self.cli
        )

    def _launcher(self, lane: int) -> CliLauncher | None:
        if self.cli is None:
            return None  # the SDK looks for one itself, and says it found none
        if lane not in self._launchers:
            self._launchers[lane] = CliLauncher(self.cli)
        return self._launchers[lane]

    def cli_pid(self, lane: int = 1) -> int | None:
        """The process group of the CLI running in ``lane`` now (None: none runs there)."""
        launcher = self._launchers.get(lane)
        return launcher.pid() if launcher is not None else None

    def close(self) -> None:
        """The run is over: the launchers' temp dirs go."""
        for launcher in self._launchers.values():
            launcher.close()
        self._launchers.clear()
