"""What the merge queue undoes as a run starts after one was killed during a merge: the
record on disk says which commits the merge moved the spec's branch to, and only a branch
at one of them is moved back (through the real queue, its history on disk, and a spec
branch that records its moves; kill -9 runs through the CLI are in
tests/integration/test_lanes_resume.py)."""

from __future__ import annotations

from dataclasses import asdict
from types import SimpleNamespace

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.engine.progress.history import AttemptHistory
from agent_tui.engine.stages.merge import MergeQueue, Queued


class SpecBranch:
    """The spec's branch as the queue moves it: where it is, and each move."""

    def __init__(self, tip: str) -> None:
        self.at = tip
        self.moves: list[tuple[str, str]] = []

    async def tip(self) -> str:
        return self.at

    async def move_to(self, commit: str, expected: str) -> None:
        assert expected == self.at, "a move from where the branch is not"
        self.moves.append((commit, expected))
        self.at = commit


SINGLE = {"subtask_id": "1.1", "from": "A", "to": "B", "commit": "L1"}
BATCH = {"subtask_id": "1.1", "batch": ["1.1", "2.1"], "from": "A", "to": "C", "made": ["B", "C"]}


@pytest.mark.parametrize(
    ("merging", "tip", "undone", "named"),
    [
        (SINGLE, "A", [], None),  # killed before its move: nothing to undo
        (SINGLE, "B", [("A", "B")], "1.1"),
        (BATCH, "B", [("A", "B")], "1.1, 2.1"),  # killed between the batch's two moves
        (BATCH, "C", [("A", "C")], "1.1, 2.1"),
        ({**BATCH, "made": "B"}, "B", [], None),  # not a list: only "to" is believed
        (BATCH, "X", [], None),  # the branch is somewhere no merge put it: left alone
    ],
)
async def test_a_merge_cut_short_is_undone_only_from_where_it_moved_the_branch(
    tmp_path, merging, tip, undone, named
):
    history = AttemptHistory(tmp_path)
    for subtask_id in ("1.1", "2.1"):
        history.queue_merge(asdict(Queued(subtask_id, 1, "L" + subtask_id, "ref", 1)))
    history.set_merging(merging)
    events: list[ev.Event] = []

    async def emit(event: ev.Event) -> None:
        events.append(event)

    spec = SpecBranch(tip)
    parts = SimpleNamespace(
        config=None,
        control=None,
        retries=None,
        tracker=None,
        history=history,
        emit=emit,
        checkpoints=spec,
    )
    queue = MergeQueue(parts, coder=None)
    await queue.resume()

    assert spec.moves == undone
    said = [e.message for e in events if isinstance(e, ev.Notice)]
    expected = f"merge queue: the merge of {named} was cut short; it is undone and merged again"
    assert said == ([expected] if named else [])
    assert AttemptHistory(tmp_path).merging() is None
    assert list(queue.waiting) == ["1.1", "2.1"]  # both merged again, in their order


def test_a_queue_entry_keeps_what_it_was_started_on_and_an_older_one_reads_as_on_the_tip():
    stacked = asdict(Queued("1.2", 2, "L12", "ref", 3, on="1.1"))
    assert Queued.of(stacked) == Queued("1.2", 2, "L12", "ref", 3, on="1.1")
    older = {k: v for k, v in stacked.items() if k != "on"}  # written before ``on`` was
    assert Queued.of(older) == Queued("1.2", 2, "L12", "ref", 3)
    assert Queued.of({**stacked, "on": 7}).on is None  # not an id: taken as the tip
    assert Queued.of({k: v for k, v in stacked.items() if k != "commit"}) is None
