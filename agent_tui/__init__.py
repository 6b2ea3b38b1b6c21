"""agent-tui: supervise an autonomous Claude coding loop from the terminal."""

__version__ = "0.1.0"
