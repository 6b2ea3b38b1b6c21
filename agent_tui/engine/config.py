"""What one run of the coder loop is told: where, with which model, and how patiently."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_tui.engine.accounts.reset_wait import RESET_MARGIN_S
from agent_tui.engine.control.plan_review import PlanReviewMode
from agent_tui.engine.failures.retry import RetryPolicy
from agent_tui.engine.sandbox.containment import SandboxCheck

if TYPE_CHECKING:
    from agent_tui.config import Settings
    from agent_tui.workspace.location import Location


@dataclass
class LoopConfig:
    project_dir: Path
    spec_dir: Path
    model: str | None = None
    max_iterations: int | None = None
    pause_between_s: float = 3.0
    idle_timeout_s: float = 600.0
    max_attempts: int = 3
    """Sessions that end without completing a subtask before it is marked stuck."""
    planner_tries: int = 3
    """Planner sessions that leave no valid plan (or fail for good) before the run ends."""
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    extra_env: dict[str, str] = field(default_factory=dict)
    """Set for every session on top of the profile's env (the demo points the CLI at its sim)."""
    sandbox: SandboxCheck | None = None
    """What a check before the run found of Claude Code's sandbox; None: the run checks."""
    bash_allowlist: list[str] | None = None
    auto_switch: bool = False
    pause_on_problem: bool = True
    """App: a problem only the user can fix pauses the loop.  Headless: it ends the run."""
    cli_path: str | None = None
    profile: str | None = None
    """Profile to start with; None means the store's active profile."""
    retry_stuck: bool = False
    """Start by trying every stuck subtask again (``--retry-stuck``)."""
    quota_file: Path | None = None
    """Where each profile's usage window is kept (the state dir's); None: in memory only."""
    wait_for_reset: bool = True
    """A usage limit with a known reset is waited out; False (``--no-wait``): the user is
    needed, as for any other limit."""
    max_reset_wait_s: float = 6 * 3600.0
    """A reset further off than this is not waited for: the user is needed, told when."""
    reset_margin_s: float = RESET_MARGIN_S
    switch_at_utilization: float = 0.9
    """With auto_switch: a limit warning past this share of a window moves the next session
    to the profile with the most headroom."""
    notifications: bool = True
    """For the user interface: the bell and a desktop notification when the run needs the
    user, starts a long wait, or finishes.  The loop itself does not read it."""
    workspace: Location | None = None
    """Where the agent works, as the checks found it; None: the run finds it."""
    in_place: bool = False
    """Work in the project itself even in a git repository (``--in-place``)."""
    worktrees_dir: Path | None = None
    """Where the specs' worktrees are kept; None: agent-tui's data dir."""
    rollback_failed_tries: bool = True
    verification: bool = True
    """Run each completed subtask's verification command before it counts as completed."""
    verification_timeout_s: float = 300.0
    qa: bool = False
    """Once every subtask is completed, the QA loop: review, fix, review, until approved."""
    qa_max_iterations: int = 10
    lanes: int | None = None
    """Subtasks run at once (``--lanes``); None: the plan's recommendation, else one."""
    lanes_per_profile: int = 4
    """The most lanes one profile's account runs at once."""
    plan_review: PlanReviewMode = PlanReviewMode.OFF
    """What follows a plan the planner wrote: coding at once, a wait for the user's
    approve or discard (the app), or the run's end (headless ``new``)."""
    spend_dir: Path | None = None
    """Where the spend ledger is kept (the state dir's); None: in memory only."""
    max_spend_usd: float | None = None
    """This run's budget (``--max-spend``)."""
    spec_budget_usd: float | None = None
    monthly_budget_usd: float | None = None
    """A profile's monthly budget when it sets none of its own."""
    billing_day: int | None = None
    session_budget_usd: float | None = None
    """Each session's cap, the CLI's ``max_budget_usd``."""
    runaway_repeats: int = 8
    runaway_token_growth: int = 100_000

    @classmethod
    def from_settings(cls, settings: Settings, **fields: Any) -> LoopConfig:
        """A run's config from the user's settings; ``fields`` (the command line's) win."""
        from_settings: dict[str, Any] = {
            "model": settings.model,
            "pause_between_s": settings.pause_between_s,
            "bash_allowlist": settings.bash_allowlist,
            "auto_switch": settings.auto_switch,
            "max_reset_wait_s": settings.max_reset_wait_h * 3600,
            "switch_at_utilization": settings.switch_at_utilization,
            "notifications": settings.notifications,
            "rollback_failed_tries": settings.rollback_failed_tries,
            "verification": settings.verification,
            "verification_timeout_s": settings.verification_timeout_s,
            "qa": settings.qa,
            "qa_max_iterations": settings.qa_max_iterations,
            "lanes": settings.lanes,
            "lanes_per_profile": settings.lanes_per_profile,
            "spec_budget_usd": settings.spec_budget_usd,
            "monthly_budget_usd": settings.monthly_budget_usd,
            "billing_day": settings.billing_day,
            "session_budget_usd": settings.session_budget_usd,
            "runaway_repeats": settings.runaway_repeats,
            "runaway_token_growth": settings.runaway_token_growth,
        }
        return cls(**{**from_settings, **fields})

    @property
    def plan_path(self) -> Path:
        return self.spec_dir / "implementation_plan.json"

    @property
    def pause_file(self) -> Path:
        return self.spec_dir / "PAUSE"

    @property
    def logs_dir(self) -> Path:
        return self.spec_dir / "logs"
