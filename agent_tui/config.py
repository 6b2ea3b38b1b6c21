"""Where agent-tui keeps its own settings and profiles (platformdirs; overridable)."""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, Field, field_validator

CONFIG_DIR_ENV = "AGENT_TUI_CONFIG_DIR"
_TOOL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9.-]+(:\d+)?$")


class ContainmentMode(StrEnum):
    """How a session is confined: ``required`` refuses to run without Claude Code's sandbox,
    ``auto`` uses it where it can start and says loudly when it cannot, ``off`` never does."""

    REQUIRED = "required"
    AUTO = "auto"
    OFF = "off"


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
    containment: ContainmentMode = Field(ContainmentMode.AUTO, strict=False)
    """``required`` | ``auto`` | ``off``: whether sessions run in Claude Code's sandbox."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Hosts sandboxed commands may reach (``pypi.org``, ``*.npmjs.org``); none by default."""
    extra_tools: list[str] = Field(default_factory=list)
    """Tools a session gets besides the coder's own (``WebFetch``, ``NotebookEdit``, …)."""

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not _HOST.match(host):
                raise ValueError(f"allowed host {host!r} must be a host name, like pypi.org")
        return value

    @field_validator("extra_tools")
    @classmethod
    def _tools(cls, value: list[str]) -> list[str]:
        for tool in value:
            if not _TOOL_NAME.match(tool):
                raise ValueError(f"extra tool {tool!r} must be a tool name, like WebFetch")
        return value


def app_config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else Path(user_config_dir("agent-tui"))


def profiles_path() -> Path:
    return app_config_dir() / "profiles.json"
