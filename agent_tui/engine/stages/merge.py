"""The verified merge queue: a subtask whose check passed in its lane is completed only once
its work is on the spec's branch and the checks still pass there.

In the order their checks passed, one at a time: the lane's commit is replayed onto the
branch's tip (``workspace.lanes``); then the subtask's own check, and those of the completed
subtasks whose declared files its commit touched (every completed one's, where a subtask
declares none), run on the result, contained as a session's Bash is.  Only then does the
plan say completed.  A conflict or a failed check undoes the merge: the subtask is pending
again, its next prompt says what happened, and it is redone from the new tip.  Nothing is
resolved by guessing.

Several waiting at once are merged together: each is replayed in turn, and the checks of
all of them (and of the completed subtasks their files touch) run once on the result.  If
one fails, or a replay conflicts, the batch is undone and its halves are merged apart, down
to one at a time, which decides as above (as CI merge queues bisect).

A subtask started on the work of one before it that was still waiting here (``ready``) is
merged after it, or, when that one did not merge, sent back to be redone from the tip: its
work holds what was not kept (no try is spent).

The queue is on disk (``memory/attempt_history.json``): a run killed during a merge undoes
it (a whole batch) as the next one starts, and merges what was waiting.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

from agent_tui.engine.checks.verify import CommandCheck, VerifyResult, check_of
from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.events.lanes import MergeOutcome
from agent_tui.engine.events.trust import CheckOutcome
from agent_tui.engine.progress.checkpoints import Checkpoints, WorkspaceFailed
from agent_tui.engine.schedule.lanes import Lane
from agent_tui.engine.schedule.ready import declared_files
from agent_tui.engine.stages.base import Stage
from agent_tui.engine.stages.coder import CoderStage
from agent_tui.plan import Subtask, find_subtask

MAX_BATCH = 8
"""The most waiting subtasks merged together, their checks run once."""
_WORDS = {MergeOutcome.CONFLICT: "merge_conflict", MergeOutcome.UNMERGED_BASE: "unmerged_base"}
"""The attempt history's word for a merge that sent its subtask back."""


@dataclass(frozen=True)
class Queued:
    subtask_id: str
    lane: int
    commit: str
    ref: str
    """The ref that keeps the commit while its lane moves on."""
    session: int
    """The session whose work it is."""
    on: str | None = None
    """The subtask whose work, then waiting here too, this one was started on."""

    @classmethod
    def of(cls, data: dict[str, Any]) -> Queued | None:
        try:
            entry = cls(**{name: data[name] for name in cls.__dataclass_fields__ if name != "on"})
        except (KeyError, TypeError):
            return None
        on = data.get("on")
        return replace(entry, on=on) if isinstance(on, str) else entry


class MergeQueue(Stage):
    def __init__(self, parts: Any, coder: CoderStage) -> None:
        super().__init__(parts)
        self.coder = coder
        self.lane: Lane | None = None
        """The spec's worktree as the merges' checks see it (a lane id of its own, so an
        interrupt of a coder lane does not reach them); None: the spec's lane."""
        self.waiting: dict[str, Queued] = {}
        """Queued or being merged, by subtask: none of them may start in a lane."""
        self._entries: asyncio.Queue[Queued] = asyncio.Queue()
        self._settled = asyncio.Event()
        self.passed_on: dict[str, tuple[str, CommandCheck | str]] = {}
        """Each subtask whose check last passed here: the spec branch's commit it passed
        on, and the check (the final check need not run it again on that very tree)."""

    @property
    def idle(self) -> bool:
        return not self.waiting

    async def settled(self) -> None:
        """Until a merge has ended (at once if one has since this was last awaited)."""
        await self._settled.wait()
        self._settled.clear()

    async def take(self, subtask: Subtask, site: Checkpoints) -> bool:
        """The coder's hand-over: ``subtask``'s check passed in ``site``'s lane and its work
        is the commit just made there.  Always taken (True)."""
        assert site.last_commit is not None
        ref = await self._workspace(site.keep(subtask.id, site.last_commit))
        attempt = self.parts.attempts.get(subtask.id)
        number, on = (attempt.number, attempt.on) if attempt else (0, None)
        entry = Queued(subtask.id, site.lane, site.last_commit, ref, number, on)
        await self.record(self.history.queue_merge, asdict(entry))
        self._add(entry)
        await self.emit(
            lev.MergeQueued(subtask_id=subtask.id, lane=site.lane, waiting=len(self.waiting))
        )
        return True

    def _add(self, entry: Queued) -> None:
        self.waiting[entry.subtask_id] = entry
        self._entries.put_nowait(entry)

    async def resume(self) -> None:
        """What a run that stopped left: a merge under way is undone, and what waited is
        queued again, in its order."""
        merging = self.history.merging()
        if merging is not None:
            spec = self.checkpoints
            tip, before = await self._workspace(spec.tip()), merging.get("from")
            made = merging.get("made")  # a batch's: each commit it moved to
            made = made if isinstance(made, list) else [merging.get("to")]
            if before and tip != before and tip in made:
                await self._workspace(spec.move_to(before, tip))
                batch = merging.get("batch") or [merging.get("subtask_id")]
                message = (
                    f"merge queue: the merge of {', '.join(map(str, batch))} was cut short; "
                    "it is undone and merged again"
                )
                await self.emit(ev.Notice(level="warning", message=message))
            await self.record(self.history.set_merging, None)
        for data in self.history.queued_merges():
            entry = Queued.of(data)
            if entry is not None and entry.subtask_id not in self.waiting:
                self._add(entry)

    async def run(self) -> None:
        """Merge what is queued, all that waits at once together, for as long as the run
        goes on, or, once the run is stopping, until a merge under way is undone.  An entry
        leaves ``waiting`` only once its merge has ended: one the run's end cut short stays,
        so its subtask stays in progress for the next run to merge."""
        while not self.control.stopping:
            batch = [await self._entries.get()]
            while len(batch) < MAX_BATCH and not self._entries.empty():
                batch.append(self._entries.get_nowait())
            try:
                await self._merge_some(batch)
            finally:
                self._settled.set()

    async def _merge_some(self, batch: list[Queued]) -> None:
        """``batch`` together; if that does not merge, its halves one after the other.  A
        check the user interrupted (``i``) is no failure: the merge goes again."""
        while not self.control.stopping:
            kept: list[Queued] = []
            for entry in batch:
                if await self._wanted(entry, kept) is not None:
                    kept.append(entry)
            batch = kept
            merged = await self._together(batch) if batch else True
            if merged is None:
                continue
            if not merged:
                half = len(batch) // 2
                await self._merge_some(batch[:half])
                await self._merge_some(batch[half:])
            return

    async def _wanted(self, entry: Queued, ahead: list[Queued]) -> Subtask | None:
        """The entry's subtask, if it is still to be completed; else its merge is dropped.
        One started on another's work goes back unless that is merged, or is ``ahead`` of
        it in its batch."""
        plan = self.tracker.plan
        subtask = find_subtask(plan, entry.subtask_id) if plan else None
        if subtask is None or subtask.status not in ("in_progress", "completed"):
            why = "no longer to be completed"
            await self._done(entry, MergeOutcome.DROPPED, message=why)
            await self.coder.cut_stacked_on(entry.subtask_id, entry.commit, why)
            self._leave(entry)
            return None
        if entry.on is not None and entry.on not in {e.subtask_id for e in ahead}:
            base = find_subtask(plan, entry.on) if plan else None
            if base is None or base.status != "completed" or entry.on in self.waiting:
                why = f"started on {entry.on}'s work, which was not merged: redone from the tip"
                await self._back(entry, MergeOutcome.UNMERGED_BASE, why)
                return None
        return subtask

    def _leave(self, entry: Queued) -> None:
        """``entry``'s merge has ended (not a later entry of the same subtask's)."""
        if self.waiting.get(entry.subtask_id) is entry:
            del self.waiting[entry.subtask_id]
        self._settled.set()

    async def _together(self, entries: list[Queued]) -> bool | None:
        """Replay every one of ``entries`` and run their checks once on the result: True
        when their merges have ended (all merged; one alone may have been sent back);
        False when a batch conflicted or failed a check; None when the user interrupted a
        check (False and None: undone, still queued)."""
        plan = self.tracker.plan
        assert plan is not None
        subtasks = [find_subtask(plan, entry.subtask_id) for entry in entries]
        ids = [entry.subtask_id for entry in entries]
        alone = entries[0] if len(entries) == 1 else None
        spec = self.checkpoints
        start = tip = await self._workspace(spec.tip())
        merging = {"subtask_id": ids[0], "batch": ids, "from": start, "to": None}
        await self.record(self.history.set_merging, merging)
        made: list[tuple[str, int]] = []
        files: set[str] = set()
        for entry in entries:
            replayed = await self._workspace(spec.replay(entry.commit))
            if replayed.commit is None and alone is not None:
                conflicts = list(replayed.conflicts)
                why = f"conflicts in {', '.join(conflicts) or '(not named)'}"
                return await self._back(alone, MergeOutcome.CONFLICT, why, conflict=conflicts)
            if replayed.commit is None:
                return await self._apart(start, tip, ids, f"{entry.subtask_id} conflicts")
            made.append((replayed.commit, len(replayed.files)))
            files.update(replayed.files)
            moved = [commit for commit, _ in made]
            await self.record(
                self.history.set_merging, {**merging, "to": replayed.commit, "made": moved}
            )
            await self._workspace(spec.move_to(replayed.commit, tip))
            tip = replayed.commit
        # One alone on the tip it began from: the result is the tree its lane's check passed
        # on (as with one lane, the final check looks at the others once the plan is done).
        checks = (
            []
            if alone is not None and replayed.fast_forward
            else self._to_check([s for s in subtasks if s is not None], files=tuple(files))
        )
        for entry in entries:
            started = lev.MergeStarted(
                subtask_id=entry.subtask_id,
                checks=tuple(s.id for s in checks),
                batch=tuple(ids) if alone is None else (),
            )
            await self.emit(started)
        failed = await self._recheck(checks)
        if failed is not None and failed.outcome == CheckOutcome.INTERRUPTED:
            await self._undo(start, tip)
            return None
        if failed is not None and alone is not None:
            await self._undo(start, tip)
            return await self._back(alone, MergeOutcome.RECHECK_FAILED, failed.reason, check=failed)
        if failed is not None:
            return await self._apart(start, tip, ids, f"{failed.subtask_id}'s check fails")
        for checked in checks:
            self.passed_on[checked.id] = (tip, check_of(checked.verification))
        for subtask_id in ids:
            await self.set_status(subtask_id, "completed")
        await self.record(self.history.unqueue_merge, *ids)  # one write: all merged, or none
        for entry, (commit, count) in zip(entries, made, strict=True):
            await self.emit(wev.SubtaskCommitted(id=entry.subtask_id, commit=commit, files=count))
            await self._done(entry, MergeOutcome.MERGED, commit=commit, recorded=True)
            attempts = self.history.attempt_count(entry.subtask_id)
            await self.emit_status(entry.subtask_id, "completed", attempts)
            self._leave(entry)
        return True

    async def _undo(self, start: str, tip: str) -> None:
        """The spec's branch back from ``tip`` to where the merge began; no merge under way."""
        if tip != start:
            await self._workspace(self.checkpoints.move_to(start, tip))
        await self.record(self.history.set_merging, None)

    async def _apart(self, start: str, tip: str, ids: list[str], why: str) -> bool:
        """A batch that did not merge is undone, to be merged in halves (False)."""
        await self._undo(start, tip)
        message = f"merge queue: {', '.join(ids)} together: {why}; merged apart to find which"
        await self.emit(ev.Notice(level="info", message=message))
        return False

    def _to_check(self, merged: list[Subtask], files: tuple[str, ...] | None) -> list[Subtask]:
        """The merged subtasks' own checks first, then the completed subtasks' whose
        declared files the merge touched (all of them where one declares none)."""
        plan = self.tracker.plan
        assert plan is not None
        touched = {f.strip("./") for f in files or ()}
        found = list(merged)
        ids = {subtask.id for subtask in merged}
        for other in plan.subtasks():
            if other.id in ids or other.id in self.waiting or other.status != "completed":
                continue  # one still waiting is not on the branch, whatever its status
            declared = declared_files(other)
            if not declared or declared & touched:
                found.append(other)
        return found

    async def _recheck(self, subtasks: list[Subtask]) -> VerifyResult | None:
        """The first check that does not pass on the spec's branch, or None."""
        lane = self.lane or self.parts.spec_lane
        for subtask in subtasks:
            check = await self.check(subtask, lane)
            if not check.counts_as_completed:
                return check
        return None

    async def _back(
        self,
        entry: Queued,
        outcome: MergeOutcome,
        reason: str,
        *,
        check: VerifyResult | None = None,
        conflict: list[str] | None = None,
    ) -> bool:
        """Not merged: the subtask is pending again, its next prompt says why, and a try is
        spent (the tries bound a subtask that keeps meeting the same conflict; none for
        work started on work that was not merged).  Its merge has ended (True)."""
        record = {**check.record(), "subtask_id": check.subtask_id} if check else None
        met = {"files": conflict} if conflict is not None else None
        await self.record(
            partial(self.history.record_attempt, conflict=met),
            entry.subtask_id,
            entry.session,
            _WORDS.get(outcome, "recheck_failed"),
            None,
            reason,
            record,
            session=entry.session,
        )
        await self.set_status(entry.subtask_id, "pending")
        await self._done(entry, outcome, message=reason)
        await self.coder.cut_stacked_on(entry.subtask_id, entry.commit, reason)
        attempts = self.history.attempt_count(entry.subtask_id)
        await self.emit_status(entry.subtask_id, "pending", attempts)
        await self.coder.stuck_if_out_of_tries(entry.subtask_id)
        self._leave(entry)
        return True

    async def _done(
        self,
        entry: Queued,
        outcome: MergeOutcome,
        *,
        commit: str | None = None,
        message: str = "",
        recorded: bool = False,
    ) -> None:
        """``entry`` has left the queue (``recorded``: the history says so already)."""
        if not recorded:
            await self.record(self.history.unqueue_merge, entry.subtask_id)
        await self._workspace(self.checkpoints.let_go(entry.ref))
        await self.emit(
            lev.MergeEnded(
                subtask_id=entry.subtask_id,
                outcome=outcome,
                commit=commit,
                message=message,
                waiting=len(self.waiting.keys() - {entry.subtask_id}),
            )
        )

    async def _workspace(self, step: Any) -> Any:
        try:
            return await step
        except WorkspaceFailed as exc:
            self.workspace_failed(exc)
