"""Scenarios for the scripted Messages API: data, not code.

A scenario is a list of scripts.  The first user message of a conversation (our prompt)
picks the script whose ``match`` pattern it contains; each new CLI session that matches a
script takes the next entry of its ``sessions`` list (the last one repeats).  A session is a
list of steps: step *k* answers the request that carries *k* assistant turns already, so a
retried request gets the same answer.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent_tui.sim.errors import ErrorName
from agent_tui.sim.quota_headers import QuotaHeaders

FaultName = Literal["hang", "drop", "malformed", "credits_ran_out"]
"""``credits_ran_out``: a reply begins, then an ``error`` event ends it (usage credits used
up mid-reply); the CLI then asks again without streaming, and gets the step's ``fallback``."""


class PlanEdit(BaseModel):
    """Top-level keys of the plan to ``set`` (replaced) or ``merge`` (into the dict there)."""

    model_config = ConfigDict(extra="forbid")

    set: dict[str, Any] = Field(default_factory=dict)
    merge: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ToolCall(BaseModel):
    """A tool_use block.  ``set_status`` and ``edit_plan`` make an Edit of the plan file,
    computed at reply time (the agent's Bash cannot write in the spec dir)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    set_status: dict[str, str] | None = None
    edit_plan: PlanEdit | None = None


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    tools: list[ToolCall] = Field(default_factory=list)
    error: ErrorName | None = None
    fault: FaultName | None = None
    quota: QuotaHeaders | None = None
    """The unified rate-limit headers of this reply (else the scenario's)."""
    wait_for: str | None = None
    """Answer only once this signal is given (by another session's step, or by the test
    through ``SimServer.signal``): sessions that must overlap, or run in an order."""
    signal: str | None = None
    """Give this signal as this step's request comes in (before any wait of its own)."""
    delay_s: float = Field(0.0, ge=0)
    """Wait this long before answering: a model's pace, for benchmarks."""
    fallback: ErrorName | None = None
    """What the CLI's request without streaming (its retry after a broken stream) gets;
    None: the same step, as JSON."""

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [bool(self.text or self.tools), self.error is not None, self.fault is not None]
        if sum(kinds) != 1:
            raise ValueError("a step is a reply (text/tools), an error, or a fault: exactly one")
        return self


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: str
    sessions: list[list[Step]]

    @model_validator(mode="after")
    def _has_sessions(self) -> Script:
        if not self.sessions or any(not s for s in self.sessions):
            raise ValueError(f"script {self.match!r}: every session needs at least one step")
        return self


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "scenario"
    description: str = ""
    pace_s: float = 0.0
    """Pause between streamed events, so a person watching the demo sees text arrive."""
    scripts: list[Script] = Field(default_factory=list)
    quota: QuotaHeaders | None = None
    """The unified rate-limit headers of every reply whose step sets none."""
    fallback_text: str = "Nothing scripted for this request."

    def script_for(self, prompt_text: str) -> Script | None:
        for script in self.scripts:
            if re.search(script.match, prompt_text):
                return script
        return None

    @classmethod
    def bundled(cls, name: str) -> Scenario:
        text = (
            resources.files("agent_tui.sim")
            .joinpath("scenarios", f"{name}.json")
            .read_text(encoding="utf-8")
        )
        return cls.model_validate(json.loads(text))
