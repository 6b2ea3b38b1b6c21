"""The app as the command line runs it in a terminal: hangup-safe, its collector paused
until the first frame, and, while the start-up checks still run, drawn off screen.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.driver import Driver
from textual.message import Message

from agent_tui.engine.events import core as ev
from agent_tui.exit_codes import EXIT_BAD_INPUT, EXIT_INTERRUPTED
from agent_tui.startup import collector
from agent_tui.tui.app import AgentApp, LoopFactory
from agent_tui.tui.textual_compat import running_driver

Gate = Callable[[], object]
"""Blocks until the start-up checks pass; raises their refusal."""
CHECKS_NOTICE_AFTER_S = 1.5
"""Checks still running by then say so in the shell (the first frame waits for them)."""
CHECKS_WAITING = (
    "agent-tui: still checking the profile's credentials"
    " (is the keychain waiting to be unlocked?); ctrl+c quits"
)


@dataclass
class GateDone(Message):
    """The start-up checks the app was drawn behind have answered: passed, or ``error``."""

    error: Exception | None = None


class LaunchedApp(AgentApp):
    """``AgentApp`` in the user's terminal, through a driver that survives a hangup."""

    def get_driver_class(self) -> type[Driver]:
        """Where Textual would use its ``LinuxDriver`` (a POSIX terminal, no
        ``TEXTUAL_DRIVER`` override), ours; any other driver as it is."""
        chosen = super().get_driver_class()
        if sys.platform == "win32":
            return chosen
        from textual.drivers.linux_driver import LinuxDriver

        return self.terminal_driver() if chosen is LinuxDriver else chosen

    def terminal_driver(self) -> type[Driver]:
        from agent_tui.startup.drivers import TerminalDriver

        return TerminalDriver

    def after_first_frame(self) -> None:
        super().after_first_frame()
        collector.first_frame_drawn()


class GatedApp(LaunchedApp):
    """``LaunchedApp`` drawn behind the start-up checks.

    ``gate`` is waited on in a thread while the app draws its first frame off screen (a
    ``HeldDriver`` in a real terminal): once it returns, the frame is shown and the loop
    made; if it raises, the app ends without having shown anything and the error is kept
    in ``gate_error``.
    """

    def __init__(self, make_loop: LoopFactory, *, gate: Gate, **kwargs) -> None:
        super().__init__(make_loop, **kwargs)
        self._gate = gate
        self.gate_error: Exception | None = None
        self.checks_notice_after_s = CHECKS_NOTICE_AFTER_S

    def terminal_driver(self) -> type[Driver]:
        from agent_tui.startup.drivers import HeldDriver

        return HeldDriver

    def start_loop(self) -> None:
        # A daemon thread, not a worker's: an app that ends before the checks answer
        # (ctrl+c while a keyring prompt waits) must not wait for them on its way out.
        threading.Thread(target=self._pass_gate, name="agent-tui-checks", daemon=True).start()

    def _pass_gate(self) -> None:
        """In its thread: wait for the checks, then show what is drawn at once (or, if the
        first frame is not drawn yet, let it go out when it is) without waiting for the event
        loop, which may be busy drawing."""
        waiting = threading.Timer(self.checks_notice_after_s, self._checks_notice)
        waiting.name, waiting.daemon = "agent-tui-checks-notice", True
        waiting.start()
        try:
            self._gate()
        except Exception as exc:
            result = GateDone(exc)
        else:
            release = getattr(running_driver(self), "release", None)
            if release is not None:
                release()
            result = GateDone()
        finally:
            waiting.cancel()
        with contextlib.suppress(RuntimeError):  # the app has ended meanwhile
            self.post_message(result)

    def _checks_notice(self) -> None:
        """The checks are slow (a keychain asking to be unlocked, say): say so in the shell,
        where the user is still looking, rather than leave the terminal blank."""
        notice = getattr(running_driver(self), "notice", None)
        if notice is not None:
            notice(CHECKS_WAITING)

    @on(GateDone)
    def gate_done(self, message: GateDone) -> None:
        if message.error is not None:
            self.gate_error = message.error
            self._exit_with(EXIT_BAD_INPUT)  # once drawn, off screen: nothing is shown
        else:
            super().start_loop()  # as without a gate: after the first frame


def run_app(
    make_loop: LoopFactory,
    *,
    title: str,
    plan: ev.PlanLoaded | None = None,
    gate: Gate | None = None,
    plan_discard: str = "",
    screenshots: Path | None = None,
) -> int:
    """Run the app in this terminal; an error raised by ``gate`` is raised here, once the
    app has ended without showing itself.  ``screenshots``: where the app saves them
    (default: the spec's logs/)."""
    collector.freeze_loaded()
    shown = {"title": title, "plan": plan, "screenshots": screenshots, "plan_discard": plan_discard}
    if gate is None:
        app: LaunchedApp = LaunchedApp(make_loop, **shown)
    else:
        app = GatedApp(make_loop, gate=gate, **shown)
    result = app.run()
    if isinstance(app, GatedApp) and app.gate_error is not None:
        raise app.gate_error
    if app.farewell:
        with contextlib.suppress(OSError):  # the terminal may be gone (closed window: EIO)
            print(app.farewell, file=sys.stderr)
    if result is None:
        return app.exit_code if app.exit_code is not None else EXIT_INTERRUPTED
    return result
