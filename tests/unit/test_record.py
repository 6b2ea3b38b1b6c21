"""The frozen records events are made of: what a dataclass gave them, kept."""

from __future__ import annotations

import itertools
import pickle
from typing import ClassVar

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.engine.events.record import FrozenRecordError, Record, field

_counter = itertools.count(1)


class Base(Record):
    kind: ClassVar[str] = "base"
    serial: int = field(default_factory=lambda: next(_counter))
    name: str


class Child(Base):
    kind: ClassVar[str] = "child"
    size: int = 3
    tags: tuple[str, ...] = ()


class Strict(Child):
    size: int  # declared again without a default: required here


class Holder(Record):
    items: tuple[Child, ...]


def test_fields_come_from_annotations_base_first_and_skip_class_vars():
    assert Child._fields == ("serial", "name", "size", "tags")
    assert Child.kind == "child"


def test_defaults_and_factories_are_applied_per_record():
    first, second = Child(name="a"), Child(name="b")
    assert (first.size, first.tags) == (3, ())
    assert second.serial == first.serial + 1
    assert Child(name="c", serial=7).serial == 7


def test_missing_and_unknown_fields_are_type_errors():
    with pytest.raises(TypeError, match="'name'"):
        Child()
    with pytest.raises(TypeError, match="'colour'"):
        Child(name="a", colour="red")
    with pytest.raises(TypeError, match="'size'"):
        Strict(name="a")
    assert Strict(name="a", size=1).size == 1


def test_records_are_frozen():
    record = Child(name="a")
    with pytest.raises(FrozenRecordError):
        record.name = "b"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del record.size  # type: ignore[misc]
    assert record.name == "a"


def test_equality_and_hash_go_by_type_and_values():
    a = Child(name="a", serial=1)
    assert a == Child(name="a", serial=1)
    assert hash(a) == hash(Child(name="a", serial=1))
    assert a != Child(name="a", serial=2)
    assert a != Strict(name="a", serial=1, size=3)  # same values, another type
    assert len({a, Child(name="a", serial=1)}) == 1


def test_repr_names_every_field():
    assert repr(Child(name="a", serial=1)) == "Child(serial=1, name='a', size=3, tags=())"


def test_as_dict_turns_nested_records_into_dicts():
    holder = Holder(items=(Child(name="a", serial=1, tags=("x",)),))
    assert holder.as_dict() == {"items": ({"serial": 1, "name": "a", "size": 3, "tags": ("x",)},)}


def test_records_survive_pickling():
    """The start-up checks hand the plan view to the app through a pipe, pickled."""
    view = ev.PlanLoaded(
        spec_dir="/s",
        feature="f",
        phases=(
            ev.PhaseView(
                id="1",
                name="One",
                subtasks=(
                    ev.SubtaskView(id="1.1", description="d", status="pending", phase_id="1"),
                ),
            ),
        ),
        total=1,
        completed=0,
    )
    copy = pickle.loads(pickle.dumps(view))
    assert copy == view
    with pytest.raises(FrozenRecordError):
        copy.total = 2  # type: ignore[misc]


def test_event_to_dict_keeps_the_json_lines_shape():
    event = ev.SubtaskStatus(id="1.1", status="completed", ts=12.34567)
    assert event.to_dict() == {
        "type": "subtask_status",
        "ts": 12.346,
        "id": "1.1",
        "status": "completed",
        "attempts": 0,
    }
    assert list(event.to_dict()) == ["type", "ts", "id", "status", "attempts"]
    assert ev.ProfileSwitched(from_="a", to="b", reason="r").to_dict()["from"] == "a"
