"""The app's notifications: the terminal bell and the desktop-notification escape."""

from __future__ import annotations

import os

from textual.app import App

from agent_tui.notifications import Notification, terminal_escape


def send_notification(app: App, notification: Notification) -> None:
    """Ring the bell and send the escape (nothing in a headless test app: no terminal)."""
    if app.is_headless:
        return
    app.bell()
    write_to_terminal(app, terminal_escape(notification, os.environ, bell=False))


def write_to_terminal(app: App, text: str) -> None:
    """Write an escape sequence to the app's terminal, between frames.

    Belongs in tui/textual_compat.py: Textual has no public call to write to the terminal;
    ``App.bell`` itself writes through the private ``App._driver``
    (https://github.com/Textualize/textual/blob/main/src/textual/app.py, ``bell``).
    """
    driver = app._driver
    if driver is not None:
        driver.write(text)
