"""Where agent-tui keeps its own settings, profiles and state (platformdirs; overridable)."""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir, user_state_dir
from pydantic import BaseModel, ConfigDict, Field, field_validator

CONFIG_DIR_ENV = "AGENT_TUI_CONFIG_DIR"
STATE_DIR_ENV = "AGENT_TUI_STATE_DIR"
DATA_DIR_ENV = "AGENT_TUI_DATA_DIR"
_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9.-]+(:\d+)?$")
CLI_TOOLS = frozenset(
    {
        "Bash", "CronCreate", "CronDelete", "CronList", "Edit", "EnterWorktree",
        "ExitWorktree", "Glob", "Grep", "ListAgents", "Monitor", "NotebookEdit", "Read",
        "ReportFindings", "ScheduleWakeup", "SendMessage", "Skill", "Task", "TaskCreate",
        "TaskGet", "TaskList", "TaskStop", "TaskUpdate", "ToolSearch", "WebFetch", "WebSearch",
        "Workflow", "Write",
    }
)  # fmt: skip
"""The tools the bundled Claude Code CLI (2.1.331) gives a session when they are named (its
``init`` message lists them): any other name it drops without a word, so a mistyped extra
tool would silently be no tool (tests/integration/test_extra_tools.py keeps this in step)."""
CLI_TOOL_ALIASES = {"Agent": "Task"}
"""Names the CLI takes for one of its tools."""


class ContainmentMode(StrEnum):
    """How a session is confined: ``required`` refuses to run without Claude Code's sandbox,
    ``auto`` uses it where it can start and says loudly when it cannot, ``off`` never does."""

    REQUIRED = "required"
    AUTO = "auto"
    OFF = "off"


class ConfigError(Exception):
    """The configuration cannot be used; one sentence."""


class Settings(BaseModel):
    # Strict: a hand-written "auto_switch": "yes" is an error to fix, not a guess.  Each
    # field's docstring is its description in `agent-tui settings show`.
    model_config = ConfigDict(extra="allow", strict=True, use_attribute_docstrings=True)

    auto_switch: bool = False
    """On a usage limit or an auth failure, move to the next usable profile."""
    model: str | None = None
    """Model for every session (--model overrides it); none: the CLI's default."""
    pause_between_s: float = Field(3.0, ge=0, allow_inf_nan=False)
    """Pause after each session (upstream's 3 s), so a person can follow along."""
    bash_allowlist: list[str] | None = None
    """Programs the agent's Bash may run; none: the built-in list."""
    max_reset_wait_h: float = Field(6.0, ge=0, allow_inf_nan=False)
    """The longest wait for a usage limit to reset; a later reset stops the run (app: pauses)
    and names the reset time.  0: never wait, as --no-wait."""
    switch_at_utilization: float = Field(0.9, gt=0, le=1, allow_inf_nan=False)
    """With auto_switch: a limit warning above this share of a window used moves the next
    session to the profile with the most headroom."""
    notifications: bool = True
    """Ring the terminal bell and send a desktop notification (the terminal's OSC 9 / OSC
    777) when the run needs you, starts a long wait, or finishes."""
    containment: ContainmentMode = Field(ContainmentMode.AUTO, strict=False)
    """required | auto | off: whether sessions run in Claude Code's sandbox; auto: where it
    can start, and UNSANDBOXED (said on screen) where it cannot."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Hosts sandboxed commands may reach (pypi.org, *.npmjs.org); none by default."""
    extra_tools: list[str] = Field(default_factory=list)
    """Tools a session gets besides the coder's own (WebFetch, NotebookEdit, …)."""
    readable_paths: list[str] = Field(default_factory=list)
    """Paths of your home a session may read besides the toolchains it knows (~/.pyenv,
    ~/.cache/pip, …): a toolchain it misses, as ~/… or absolute; never one that holds a
    credential."""
    rollback_failed_tries: bool = True
    """In a worktree: undo a try that did not complete its subtask before the next one (its
    diff is kept in the spec's logs/); false: the next try starts from what it left."""
    verification: bool = True
    """Run a completed subtask's own verification command, contained as its agent is, before
    it counts as completed; off: a claimed completion is taken and shown as unverified."""
    verification_timeout_s: float = Field(300.0, gt=0, le=600, allow_inf_nan=False)
    """How long a verification command may run before it counts as failed (at most 600)."""
    qa: bool = False
    """After the last subtask, QA review sessions check the build against the spec (as
    --qa); the run exits 0 only once one approves."""
    qa_max_iterations: int = Field(10, ge=1, le=100)
    """QA reviews before the loop gives up and escalates (QA_ESCALATION.md, exit 3)."""
    lanes: int | None = Field(None, ge=1, le=32)
    """Subtasks worked on at once, each in a worktree of its own (as --lanes); none: the
    plan's recommended_workers, else 1."""
    lanes_per_profile: int = Field(4, ge=1, le=32)
    """The most lanes one profile's account runs at once: lanes are capped at this times
    the usable profiles."""
    spec_budget_usd: float | None = Field(None, gt=0, allow_inf_nan=False)
    """The most a spec may spend over all its runs (USD); once spent no session starts (the
    app pauses, headless exits 3).  None: no budget."""
    monthly_budget_usd: float | None = Field(None, gt=0, allow_inf_nan=False)
    """Each profile's budget per month (USD), e.g. its plan's Agent SDK credit; a profile's
    own (profiles budget) wins.  With auto_switch a profile that spent it is skipped."""
    billing_day: int | None = Field(None, ge=1, le=31)
    """The day of the month each profile's monthly budget starts again (its billing cycle);
    none: the 1st."""
    session_budget_usd: float | None = Field(None, gt=0, allow_inf_nan=False)
    """The most one session may spend (USD): the CLI stops it there (max_budget_usd) and
    the run pauses (headless: exit 3).  None: no cap."""
    runaway_repeats: int = Field(8, ge=0, le=1000)
    """A session that makes the same tool call this many times, with no other file changed,
    is stopped (a failed try; the next prompt says why).  0: never."""
    runaway_token_growth: int = Field(100_000, ge=0)
    """A session whose context per turn grows by this many tokens with no file changed is
    stopped, as a runaway.  0: never."""

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not _HOST.match(host):
                raise ValueError(f"allowed host {host!r} must be a host name, like pypi.org")
        return value

    @field_validator("readable_paths")
    @classmethod
    def _readable(cls, value: list[str]) -> list[str]:
        for path in value:
            if not (path.startswith(("/", "~/")) and len(path.strip("/~")) > 0):
                raise ValueError(f"readable path {path!r} must be absolute or ~/…, not a root")
            if ".." in path.split("/"):
                raise ValueError(f"readable path {path!r} must not hold ..")
        return value

    @field_validator("extra_tools")
    @classmethod
    def _tools(cls, value: list[str]) -> list[str]:
        for tool in value:
            if tool not in CLI_TOOLS and tool not in CLI_TOOL_ALIASES:
                raise ValueError(_unknown_tool(tool))
        return value


def _unknown_tool(tool: str) -> str:
    same = [name for name in sorted(CLI_TOOLS) if name.casefold() == tool.casefold()]
    if same:
        return f"extra tool {tool!r} is not one of Claude Code's tools: did you mean {same[0]}?"
    return f"extra tool {tool!r} is not one of Claude Code's tools ({', '.join(sorted(CLI_TOOLS))})"


def app_config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else Path(user_config_dir("agent-tui"))


def profiles_path() -> Path:
    return app_config_dir() / "profiles.json"


def app_state_dir() -> Path:
    """What agent-tui learns while it runs (each profile's usage windows, the spend
    ledger): not settings."""
    override = os.environ.get(STATE_DIR_ENV)
    return Path(override) if override else Path(user_state_dir("agent-tui"))


def quota_path() -> Path:
    return app_state_dir() / "quota.json"


def spend_dir() -> Path:
    """The spend ledger: one append-only file per profile."""
    return app_state_dir() / "spend"


def app_data_dir() -> Path:
    """Work agent-tui keeps for the user: each spec's worktree."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(user_data_dir("agent-tui"))


def worktrees_dir() -> Path:
    return app_data_dir() / "worktrees"
