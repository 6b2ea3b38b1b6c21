"""The app over every run on this machine: the runs list, then the run chosen, attached.

Detaching (``ctrl+d``) comes back to the list, as does ``q`` once the run has ended; ``q``
on the list leaves.  This is what ``agent-tui attach`` without a spec shows, and what
``agent-tui serve`` serves to a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on

from agent_tui.engine.clock import Clock
from agent_tui.runproc.client import RemoteRun, attaching
from agent_tui.runproc.record import RunRecord
from agent_tui.tui.app import AgentApp
from agent_tui.tui.keys import LOOP_ACTIONS
from agent_tui.tui.screens.main import MainScreen
from agent_tui.tui.screens.runs_list import RunsList

TITLE = "agent-tui — runs"
MAIN_SCREEN_ONLY = (LOOP_ACTIONS - {"quit_gracefully"}) | {"detach"}


class RunsApp(AgentApp):
    # The list is the default screen, whose own CSS_PATH Textual does not load: the app does.
    CSS_PATH = [AgentApp.CSS_PATH, Path(__file__).parent / "screens" / "runs_list.tcss"]

    def __init__(
        self,
        list_runs: Callable[[], list[RunRecord]],
        dismiss: Callable[[RunRecord], bool],
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(self._nothing_chosen, title=TITLE, clock=clock)
        self.runs_list = RunsList(list_runs, dismiss)
        self.chosen: RunRecord | None = None

    def get_default_screen(self) -> RunsList:  # type: ignore[override]
        return self.runs_list

    def start_loop(self) -> None:
        """Nothing to watch until a run is chosen."""

    @staticmethod
    def _nothing_chosen(sink) -> RemoteRun:
        raise AssertionError("no run is attached before one is chosen")

    @on(RunsList.Chosen)
    def attach_to(self, message: RunsList.Chosen) -> None:
        self.chosen = message.record
        self.title = f"agent-tui — {message.record.spec}"
        self._make_loop = attaching(Path(message.record.socket))
        self.main_screen = MainScreen(self.clock)
        self.push_screen(self.main_screen)
        super().start_loop()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_SCREEN_ONLY and self.screen is self.runs_list:
            return False
        return super().check_action(action, parameters)

    def detached(self, run: RemoteRun) -> None:
        self._back_to_the_list()

    def action_quit_gracefully(self) -> None:
        if self.screen is self.runs_list:
            self._exit_with(0)
        elif not self.loop_running:  # the run has ended (or never began): the list again
            self._back_to_the_list()
        else:
            super().action_quit_gracefully()

    def _back_to_the_list(self) -> None:
        self.workers.cancel_group(self, "loop")
        if isinstance(self.loop, RemoteRun):
            self.loop.close()
        self.loop, self.loop_state, self.exit_code, self.chosen = None, None, None, None
        self.has_worktree = self.has_subtasks = False
        self._quitting = False
        self.title = TITLE
        while self.screen is not self.runs_list:
            self.pop_screen()
