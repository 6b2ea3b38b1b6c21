"""Where agent-tui keeps its own settings and profiles (platformdirs; overridable)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, Field

CONFIG_DIR_ENV = "AGENT_TUI_CONFIG_DIR"


class ConfigError(Exception):
    """The configuration cannot be used; one sentence."""


class Settings(BaseModel):
    # Strict: a hand-written "auto_switch": "yes" is an error to fix, not a guess.
    model_config = ConfigDict(extra="allow", strict=True)

    auto_switch: bool = False
    """On a rate limit or auth failure, move to the next usable profile."""
    model: str | None = None
    pause_between_s: float = Field(3.0, ge=0, allow_inf_nan=False)
    """Pause after each session (upstream's 3 s), so a person can follow along."""
    bash_allowlist: list[str] | None = None


def app_config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else Path(user_config_dir("agent-tui"))


def profiles_path() -> Path:
    return app_config_dir() / "profiles.json"
