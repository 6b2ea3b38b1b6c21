"""The app's notifications: the terminal bell and the desktop-notification escape."""

from __future__ import annotations

import os

from textual.app import App

from agent_tui.notifications import Notification, terminal_escape
from agent_tui.tui.textual_compat import running_driver


def send_notification(app: App, notification: Notification) -> None:
    """Ring the bell and send the escape (nothing in a headless test app: no terminal)."""
    if app.is_headless:
        return
    app.bell()
    write_to_terminal(app, terminal_escape(notification, os.environ, bell=False))


def write_to_terminal(app: App, text: str) -> None:
    """Write an escape sequence to the app's terminal, between frames (Textual has no
    public call for it: ``App.bell`` itself writes through the driver)."""
    driver = running_driver(app)
    if driver is not None:
        driver.write(text)
