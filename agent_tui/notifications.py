"""Which events deserve a notification, and the terminal's own way to send one.

An unattended run tells the user when it needs them (a problem pause, a stuck subtask),
when it starts a long wait, and when it ends.  The notification goes out through the
terminal: the bell, then a desktop-notification escape (OSC 9, or OSC 777 on terminals that
speak that one).  A library such as notify-send or desktop-notifier would need D-Bus and a
desktop session on this machine; the terminal reaches the user wherever the terminal is,
over ssh and inside tmux too.  Pure: the app and headless mode write what this returns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from agent_tui.auth.redaction import redact
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.record import Record

LONG_WAIT_S = 60.0
"""A wait at least this long is worth a notification: the user may walk away."""
TITLE = "agent-tui"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
OSC_777_TERMS = ("rxvt", "foot")
"""TERM prefixes of terminals that show OSC 777 notifications (VTE's ones set VTE_VERSION)."""


class Notification(Record):
    title: str
    body: str


def notification_for(event: ev.Event) -> Notification | None:
    """The notification ``event`` deserves, or None."""
    if isinstance(event, ev.Paused) and event.needs_user:
        return Notification(title=f"{TITLE} needs you", body=event.reason)
    if isinstance(event, ev.SubtaskStuck):
        return Notification(title=f"{TITLE}: subtask stuck", body=f"{event.id}: {event.reason}")
    if isinstance(event, ev.BackoffStarted) and _long_fresh_wait(event):
        body = f"waiting {event.wait_text()}: the usage limit resets at {event.reset_text()}"
        return Notification(title=f"{TITLE} is waiting", body=body)
    if isinstance(event, ev.LoopFinished) and event.outcome != "interrupted":
        title = f"{TITLE}: done" if event.outcome == "complete" else f"{TITLE} stopped"
        return Notification(title=title, body=event.message or event.outcome)
    return None


def _long_fresh_wait(event: ev.BackoffStarted) -> bool:
    """A wait for a usage limit as it begins (not again after a pause), and a long one."""
    return (
        event.resets_at is not None
        and event.remaining_s in (None, event.delay_s)
        and (event.delay_s >= LONG_WAIT_S)
    )


def terminal_escape(
    notification: Notification, environ: Mapping[str, str], *, bell: bool = True
) -> str:
    """The bell and the desktop-notification escape for the terminal ``environ`` names."""
    title = _clean(notification.title)
    body = _clean(notification.body)
    term = environ.get("TERM", "")
    if term.startswith(OSC_777_TERMS) or environ.get("VTE_VERSION"):
        sequence = f"\x1b]777;notify;{title};{body}\x07"
    else:
        sequence = f"\x1b]9;{title}: {body}\x07"
    if environ.get("TMUX"):
        # tmux passes an escape through to the outer terminal only inside its DCS wrapper.
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return ("\a" if bell else "") + sequence


def _clean(text: str) -> str:
    """One masked line with no control character (it would end the escape early) and no
    ';' (OSC 777 separates its fields with it; OSC 9 reads '9;4;…' as a progress bar)."""
    return _CONTROL.sub(" ", redact(text)).replace(";", ",").strip()[:200]
