"""Which subtasks may start now, and how many lanes a run gets: pure, over the plan.

A subtask is ready when its phase's dependencies are complete.  Two may run at once when
neither's phase depends on the other's, when each phase allows it (``parallel_safe:
false`` keeps a phase to itself; subtasks of one phase keep their order unless it is
``parallel_safe: true`` and both declare their files), and when the files they declare do
not overlap.  These hints decide only what is tried side by side: the merge queue's
checks decide what is kept.  In plan order, so one lane takes subtasks as before.

A subtask kept back only by the ones before it in its phase, each of them done in its lane
and waiting in the merge queue, need not wait for their merges: it starts on the work of
the last of them (its commit in the lane, which holds the others'), and the queue merges it
after them, or sends it back if one of them does not merge.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from agent_tui.plan import ImplementationPlan, Phase, Subtask

WORKABLE = ("pending", "in_progress")
"""``in_progress`` too: a crashed or rate-limited session must not leave its subtask frozen."""
SESSION_MEMORY = 200 * 1024 * 1024
"""What one CLI session holds, about: lanes beyond the memory for them are not started."""


def _hint(phase: Phase, name: str) -> object:
    return (phase.model_extra or {}).get(name)


def declared_files(subtask: Subtask) -> frozenset[str]:
    return frozenset(f.strip("./") for f in [*subtask.files_to_modify, *subtask.files_to_create])


def ancestors(plan: ImplementationPlan) -> dict[str, frozenset[str]]:
    """Each phase's dependencies, direct or not."""
    direct = {p.id: set(p.depends_on) for p in plan.phases}
    found: dict[str, frozenset[str]] = {}

    def visit(phase_id: str, seen: frozenset[str]) -> frozenset[str]:
        if phase_id in found:
            return found[phase_id]
        result: set[str] = set()
        for dep in direct.get(phase_id, ()):
            if dep not in seen:  # a cycle is the plan store's to refuse; here it just ends
                result |= {dep} | visit(dep, seen | {dep})
        found[phase_id] = frozenset(result)
        return found[phase_id]

    for phase in plan.phases:
        visit(phase.id, frozenset({phase.id}))
    return found


@dataclass(frozen=True)
class Placed:
    subtask: Subtask
    phase: Phase


def side_by_side(a: Placed, b: Placed, deps: dict[str, frozenset[str]]) -> bool:
    """Whether ``a`` and ``b`` may run at once."""
    if a.phase.id == b.phase.id:
        return (
            _hint(a.phase, "parallel_safe") is True
            and bool(declared_files(a.subtask))
            and bool(declared_files(b.subtask))
            and not declared_files(a.subtask) & declared_files(b.subtask)
        )
    if a.phase.id in deps.get(b.phase.id, ()) or b.phase.id in deps.get(a.phase.id, ()):
        return False
    if _hint(a.phase, "parallel_safe") is False or _hint(b.phase, "parallel_safe") is False:
        return False
    return not declared_files(a.subtask) & declared_files(b.subtask)


def ready(
    plan: ImplementationPlan,
    *,
    busy: Collection[str] = (),
    skip: Collection[str] = (),
    room: int = 1,
) -> list[Subtask]:
    """Up to ``room`` subtasks that may start beside the ``busy`` ones (running, or waiting
    to be merged), in plan order; ``skip`` holds the stuck ones."""
    return [start.subtask for start in starts(plan, running=busy, skip=skip, room=room)]


@dataclass(frozen=True)
class Start:
    subtask: Subtask
    on: str | None = None
    """The subtask waiting in the merge queue whose work this one starts on (None: the spec
    branch's tip)."""


def starts(
    plan: ImplementationPlan,
    *,
    running: Collection[str] = (),
    queued: Mapping[str, str | None] | None = None,
    skip: Collection[str] = (),
    room: int = 1,
) -> list[Start]:
    """Up to ``room`` subtasks that may start now, in plan order, beside the ``running``
    ones and those ``queued`` to be merged (each with the one it was started on, if any);
    ``skip`` holds the stuck ones.  One kept back only by queued ones before it in its
    phase starts on the last of them."""
    queued = queued or {}
    placed = {s.id: Placed(s, p) for p in plan.phases for s in p.subtasks}
    complete = {p.id for p in plan.phases if p.complete}
    deps = ancestors(plan)
    taken = [placed[i] for i in [*running, *queued] if i in placed]
    chosen: list[Start] = []
    for phase in plan.phases:
        if not all(dep in complete for dep in phase.depends_on):
            continue
        for subtask in phase.subtasks:
            if len(chosen) >= room:
                return chosen
            if subtask.status not in WORKABLE or subtask.id in skip:
                continue
            if subtask.id in running or subtask.id in queued:
                continue
            candidate = placed[subtask.id]
            blockers = [o for o in taken if not side_by_side(candidate, o, deps)]
            on = _stacked_on(candidate, blockers, queued) if blockers else None
            if not blockers or on is not None:
                chosen.append(Start(subtask, on))
                taken.append(candidate)
    return chosen


def _stacked_on(
    candidate: Placed, blockers: list[Placed], queued: Mapping[str, str | None]
) -> str | None:
    """The queued subtask ``candidate`` may start on: every one keeping it back is of its
    phase and waits in the queue, and the work of one of them holds theirs and that of
    every unfinished one before it in its phase (it was started on them); None when it
    must wait."""
    ids = {b.subtask.id for b in blockers}
    mine = candidate.phase.id
    if not all(b.subtask.id in queued and b.phase.id == mine for b in blockers):
        return None
    before = []
    for subtask in candidate.phase.subtasks:
        if subtask.id == candidate.subtask.id:
            break
        if subtask.status != "completed":
            before.append(subtask.id)
    if not ids <= set(before):
        return None  # one after it waits: it is not built on that
    for last in ids:
        held, step = set(), last
        while step is not None and step in queued and step not in held:
            held.add(step)
            step = queued[step]
        if held >= set(before):
            return last
    return None


def recommended_workers(plan: ImplementationPlan) -> int | None:
    """The planner's advice, where it gave one: ``summary.parallelism.recommended_workers``
    or a top-level ``recommended_workers``."""
    extra = plan.model_extra or {}
    summary = extra.get("summary")
    parallelism = summary.get("parallelism") if isinstance(summary, dict) else None
    for value in (
        parallelism.get("recommended_workers") if isinstance(parallelism, dict) else None,
        extra.get("recommended_workers"),
    ):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
    return None


@dataclass(frozen=True)
class LaneCount:
    lanes: int
    reason: str
    """Why that many, in words: what was asked for and what capped it."""


def lane_count(
    *,
    asked: int | None,
    plan: ImplementationPlan,
    profiles: int,
    per_profile: int,
    memory_bytes: int | None,
    isolated: bool,
) -> LaneCount:
    """How many lanes a run gets: ``asked`` (``--lanes`` or the setting), else the plan's
    recommendation, else 1; capped by the profiles (each runs ``per_profile`` at most), by
    the memory for the sessions, and to one where there is no worktree to give each lane."""
    if asked is not None:
        wanted, source = asked, f"{asked} asked for"
    else:
        advice = recommended_workers(plan)
        wanted = advice or 1
        source = f"the plan recommends {advice}" if advice else "one by default"
    usable = max(1, profiles)
    each = f"{per_profile} for each of {usable} profile{'s' if usable > 1 else ''}"
    caps = [(usable * per_profile, each)]
    if memory_bytes is not None:
        fits = max(1, memory_bytes // SESSION_MEMORY)
        caps.append((fits, f"memory for {fits} session{'s' if fits > 1 else ''}"))
    if not isolated:
        caps.append((1, "no worktree to give each lane"))
    lanes, reason = max(1, wanted), source
    for cap, why in caps:
        if cap < lanes:
            lanes, reason = cap, f"{source}; {why}"
    return LaneCount(lanes, reason)
