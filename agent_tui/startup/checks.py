"""What ``agent-tui run`` checks before it starts, and the loop built from what passed.

The checks run once per launch (in the forked child when the app starts, see
``agent_tui.startup.launch``) and write nothing.  What passed comes back as a
:class:`CheckedRun`, a small picklable record, and the loop is built from it without
checking again.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent_tui.engine.agents.claude.process import bundled_cli
from agent_tui.exit_codes import InputError

if TYPE_CHECKING:
    from agent_tui.auth.profiles import ProfileStore
    from agent_tui.engine.events import core as ev
    from agent_tui.engine.loop import CoderLoop
    from agent_tui.engine.sandbox.containment import SandboxCheck
    from agent_tui.plan import ImplementationPlan
    from agent_tui.workspace.location import Location


@dataclass(frozen=True)
class CheckedRun:
    """Everything the loop needs, as it was when it passed the checks.

    ``profiles`` is the store as read and checked (its data and the file it saves to);
    ``profile`` the one asked for with ``--profile``, or None for the store's active one.
    """

    project_dir: Path
    spec_dir: Path
    profiles: ProfileStore
    profile: str | None
    model: str | None
    max_iterations: int | None
    headless: bool
    lanes: int | None = None
    retry_stuck: bool = False
    max_spend_usd: float | None = None
    """``--max-spend``: this run's budget."""
    wait_for_reset: bool = True
    qa: bool = False
    """``--qa``: the QA loop whatever the setting says."""
    sandbox: SandboxCheck | None = None
    """What the sandbox lacks (None: containment is off)."""
    workspace: Location | None = None
    """Where the agent works: the spec's worktree, or the project in place."""
    review_plan: bool = False
    """``--review-plan``: a plan the planner writes waits for the user (headless: the run
    ends there)."""

    @property
    def title(self) -> str:
        return title_for(self.spec_dir)


def title_for(spec_dir: Path) -> str:
    return f"agent-tui — {spec_dir.name}"


def check_cli_available() -> None:
    """Fail early, with one line, when neither the bundled CLI nor ``claude`` on PATH exists."""
    bundled = bundled_cli()
    if (bundled is None or not bundled.exists()) and shutil.which("claude") is None:
        raise InputError(
            "the Claude Code CLI was not found: reinstall claude-agent-sdk (it bundles the CLI)"
        )


def check_run(args: argparse.Namespace, on_view: Callable | None = None) -> CheckedRun:
    """Check everything ``run`` needs (one ``InputError`` if not); nothing is written.

    ``on_view``, if given, gets the title, the plan's first view (a ``PlanLoaded``, or
    None while there is no plan) and the spec dir as soon as the plan has passed its
    checks, before the profile and its credentials are checked.
    """
    project, spec_dir, plan, first_view = _check_spec(args)
    if on_view is not None:
        on_view((title_for(spec_dir), first_view, spec_dir))
    # Only now: the app can draw the plan while these load and check.
    workspace = _check_workspace(project, spec_dir, args.in_place)
    _check_not_done(workspace, plan)
    profiles = _check_profiles(args)
    sandbox = _check_sandbox(profiles)
    check_cli_available()
    return CheckedRun(
        project_dir=project,
        spec_dir=spec_dir,
        profiles=profiles,
        profile=args.profile,
        model=args.model,
        max_iterations=args.max_iterations,
        headless=args.headless,
        lanes=getattr(args, "lanes", None),
        retry_stuck=args.retry_stuck,
        max_spend_usd=getattr(args, "max_spend", None),
        wait_for_reset=not args.no_wait,
        qa=args.qa,
        sandbox=sandbox,
        workspace=workspace,
        review_plan=args.review_plan,
    )


def _check_workspace(project: Path, spec_dir: Path, in_place: bool) -> Location:
    """The spec's worktree as it can be had (made or repaired by the run, not here)."""
    from agent_tui.config import worktrees_dir
    from agent_tui.workspace.location import WorkspaceRefused, locate

    try:
        return locate(project, spec_dir, root=worktrees_dir(), in_place_asked=in_place)
    except WorkspaceRefused as exc:
        raise InputError(str(exc)) from None


def _check_sandbox(profiles: ProfileStore) -> SandboxCheck | None:
    """What Claude Code's sandbox lacks here; refused when the settings require it."""
    from agent_tui.engine.sandbox.containment import ContainmentRefused, sandbox_for

    try:
        return sandbox_for(profiles.settings.containment)
    except ContainmentRefused as exc:
        raise InputError(str(exc)) from None


def _check_spec(
    args: argparse.Namespace,
) -> tuple[Path, Path, ImplementationPlan | None, ev.PlanLoaded | None]:
    """The project, its spec dir, its plan (None: none yet) and the plan's first view; the
    spec must not be busy, and must hold something to work from."""
    from agent_tui.engine.control.runlock import RunLock, SpecBusy
    from agent_tui.engine.progress.history import AttemptHistory, RecoveryError
    from agent_tui.engine.progress.views import plan_view
    from agent_tui.engine.sandbox.containment import check_records
    from agent_tui.files import LinkRefused
    from agent_tui.plan import PlanError, is_empty, load_plan
    from agent_tui.plan.specs import find_spec_dir

    project = Path(args.project).expanduser()
    if not project.is_dir():
        problem = "is not a directory" if project.exists() else "does not exist"
        raise InputError(f"project directory {args.project!r} {problem}")
    project = project.resolve()
    try:
        spec_dir = find_spec_dir(project, args.spec)
        plan_path = spec_dir / "implementation_plan.json"
        plan = load_plan(plan_path) if plan_path.exists() else None
        check_records(spec_dir)
        history = AttemptHistory(spec_dir)
        RunLock(spec_dir).check()
    except SpecBusy as exc:
        raise InputError(str(exc) + _busy_hint(exc, spec_dir)) from None
    except (PlanError, RecoveryError, LinkRefused) as exc:
        raise InputError(str(exc)) from None
    if (plan is None or is_empty(plan)) and not (spec_dir / "spec.md").is_file():
        raise InputError(
            f"spec {spec_dir.name!r} has nothing to work from: its plan has no subtasks and "
            "there is no spec.md for the planner to plan from; write spec.md (the task) or "
            "the plan's subtasks"
        )
    first_view = plan_view(plan, spec_dir, history) if plan and not is_empty(plan) else None
    return project, spec_dir, plan, first_view


def _busy_hint(exc: Exception, spec_dir: Path) -> str:
    """Where the run holding the spec can be seen: ``attach`` shows a run in its own
    process; a ``--headless`` one has none (its output is its terminal's)."""
    from agent_tui.engine.control.runlock import UnsafeLockFile
    from agent_tui.runproc.registry import NO_APP, record_of

    if isinstance(exc, UnsafeLockFile):
        return ""
    record = record_of(spec_dir)
    if record is not None and not record.finished:
        return "; agent-tui attach shows that run"
    return f"; it runs {NO_APP}"


def _check_not_done(workspace: Location, plan: ImplementationPlan | None) -> None:
    """A spec whose plan is complete and whose work branch is gone (merged, or thrown
    away) has nothing left to do: a run would only make its branch and worktree again."""
    from agent_tui.plan import is_complete
    from agent_tui.workspace.merge import merged_at
    from agent_tui.workspace.review import Review

    if plan is None or not workspace.isolated or not is_complete(plan):
        return
    assert workspace.worktree is not None
    if workspace.worktree.exists() or Review.of(workspace).exists():
        return
    merged = merged_at(workspace)
    gone = (
        f"was merged into your branch at {merged}"
        if merged
        else f"has no branch {workspace.branch} (merged, discarded, or never made)"
    )
    raise InputError(
        f"spec {workspace.spec_dir.name!r} is complete and {gone}: nothing to do (to work on "
        "it again, set a subtask back to pending in its plan)"
    )


def _check_profiles(args: argparse.Namespace) -> ProfileStore:
    """The profile store, with the run's starting profile known and its credentials usable."""
    from agent_tui.auth.profiles import ProfileStore
    from agent_tui.config import ConfigError

    try:
        store = ProfileStore.load()
        if args.profile:
            store.get(args.profile)
        elif store.data.active is not None and store.data.active not in store.names():
            # A hand-edited file: not the default login in silence (profiles use repairs it).
            raise InputError(
                f"the active profile {store.data.active!r} is not in {store.path}: "
                "pick one with agent-tui profiles use NAME"
            )
        _check_starting_profile(store, args.profile)
    except ConfigError as exc:
        raise InputError(str(exc)) from None
    except KeyError:
        raise InputError(
            f"no profile named {args.profile!r} (see: agent-tui profiles list)"
        ) from None
    return store


def _check_starting_profile(store: ProfileStore, name: str | None) -> None:
    """A run must not start on a profile whose credentials cannot work, nor, with no
    profile, without the CLI's own default login."""
    from agent_tui.auth.credentials import resolve
    from agent_tui.auth.login import default_login_problem

    profile = store.get(name) if name else store.active_profile()
    if profile is None:
        problem = default_login_problem()
        if problem is not None:
            raise InputError(problem)
        return
    resolution = resolve(profile)
    if not resolution.usable:
        raise InputError(resolution.refusal)


def build_loop(checked: CheckedRun, sink: ev.EventSink) -> CoderLoop:
    """The loop for a run that has passed its checks; nothing is checked again."""
    from agent_tui.config import quota_path, spend_dir
    from agent_tui.engine.control.plan_review import PlanReviewMode
    from agent_tui.engine.loop import CoderLoop, LoopConfig

    review = PlanReviewMode.OFF
    if checked.review_plan:
        review = PlanReviewMode.STOP if checked.headless else PlanReviewMode.ASK

    config = LoopConfig.from_settings(
        checked.profiles.settings,
        project_dir=checked.project_dir,
        spec_dir=checked.spec_dir,
        max_iterations=checked.max_iterations,
        pause_on_problem=not checked.headless,
        profile=checked.profile,
        retry_stuck=checked.retry_stuck,
        wait_for_reset=checked.wait_for_reset,
        quota_file=quota_path(),
        spend_dir=spend_dir(),
        max_spend_usd=checked.max_spend_usd,
        sandbox=checked.sandbox,
        workspace=checked.workspace,
        plan_review=review,
        **({"model": checked.model} if checked.model else {}),
        **({"qa": True} if checked.qa else {}),
        **({"lanes": checked.lanes} if checked.lanes else {}),
    )
    return CoderLoop(config, checked.profiles, sink)
