"""Start-up: what runs before the app's first frame, fenced off from the app and the engine.

``agent-tui run`` refuses bad input with one line before its app shows, and still opens
within 1.3x the time of a bare Textual app.  Its checks run once, in a forked child, while
the parent imports Textual and draws the first frame off screen (``launch``, ``preflight``,
``checks``); the app is shown, through a driver that also survives a hangup (``drivers``),
once they pass (``launched_app``); the collector stays off until then (``collector``).

This module imports nothing: the command line imports the package before the checks fork,
and whatever loads before the fork delays both sides.  Only the command line imports it.
"""
