"""``python3 -m agent_tui``: the ``agent-tui`` command, for a checkout that is not installed."""

import sys

from agent_tui.cli.commands import main

sys.exit(main())
