"""Textual messages that carry the engine's events from the loop worker to the UI."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from agent_tui.engine.events import core as ev


@dataclass
class EngineEvent(Message):
    """One typed engine event (see ``agent_tui.engine.events.core``), posted by the loop's sink."""

    event: ev.Event


@dataclass
class LoopDone(Message):
    """The loop worker has ended, with the loop's exit code (or an error text)."""

    exit_code: int
    error: str | None = None
