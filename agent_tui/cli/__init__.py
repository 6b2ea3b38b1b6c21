"""The ``agent-tui`` command line: parsing, the sub-commands, exit codes, one-line errors.

This module is the entry point, ``main``.

Ctrl+C is answered with exit 130 and no traceback from the first moment: this module imports
nothing, so an interrupt while the command line and its libraries load is caught here.
"""

from __future__ import annotations

EXIT_INTERRUPTED = 130  # agent_tui.exit_codes says the same; importing it here could be cut short


def main() -> int:
    try:
        from agent_tui.cli.commands import main as run

        return run()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
