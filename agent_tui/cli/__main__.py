"""``python -m agent_tui.cli.commands``: the ``agent-tui`` command."""

import sys

from agent_tui.cli.commands import main

sys.exit(main())
