"""Every run on this machine, across projects: the records in ``STATE_DIR/runs``.

Reading them also tidies: a run whose process is gone without finishing is marked killed
and its socket, stale now, removed.  Finished runs stay until dismissed.
"""

from __future__ import annotations

from pathlib import Path

from agent_tui.runproc.places import RunPlace, runs_dir
from agent_tui.runproc.record import ORDER, RunRecord, RunState, remove
from agent_tui.runproc.sockets import is_stale

NO_APP = "without an app to attach to (--headless): its terminal shows it"
"""How a run that holds a spec but has no record is seen: not by ``attach``."""


def runs() -> list[RunRecord]:
    """Every run's record, those that need the user first, then by when they last moved."""
    found = []
    directory = runs_dir()
    for path in sorted(directory.glob("*.json")):
        record = RunRecord.read(path)
        if record is None or record.key != path.stem:
            continue
        found.append(_tidied(RunPlace(directory, record.key), record))
    return sorted(found, key=lambda r: (ORDER.index(r.state), -r.updated_at))


def _tidied(place: RunPlace, record: RunRecord) -> RunRecord:
    if not record.finished and not record.alive():
        record.mark_killed()
        record.write(place.record)
    if record.finished and is_stale(place.socket):
        remove(place.socket)
    return record


def record_of(spec_dir: Path) -> RunRecord | None:
    """The last run of ``spec_dir`` (going on, or finished and not dismissed), if any."""
    place = RunPlace.of(spec_dir)
    record = RunRecord.read(place.record)
    return None if record is None else _tidied(place, record)


def dismiss(record: RunRecord) -> bool:
    """Forget a finished run (its record and log); False for one still going on."""
    if record.state != RunState.FINISHED:
        return False
    place = RunPlace(runs_dir(), record.key)
    for path in (place.record, place.log):
        remove(path)
    return True
