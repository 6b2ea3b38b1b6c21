"""The run socket's language: every event class survives the wire, a secret does not, and a
client of another wire version says so in one line."""

from __future__ import annotations

import enum
import json
import types
import typing

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.engine.events.record import Record
from agent_tui.runproc import wire
from agent_tui.runproc.codec import (
    EVENT_MODULES,
    DecodeError,
    event_classes,
    event_from_dict,
    record_from_dict,
)

SECRET = "sk-ant-api03-" + "Q" * 40


def sample(hint: typing.Any, name: str) -> typing.Any:
    """A value of the annotated type, not its default: what a real event could carry."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return sample(next(a for a in typing.get_args(hint) if a is not type(None)), name)
    if origin is tuple:
        args = typing.get_args(hint)
        item = args[0]
        return (sample(item, name), sample(item, name + "2")) if args[1] is Ellipsis else ()
    if isinstance(hint, type) and issubclass(hint, Record):
        return made(hint)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return list(hint)[-1]
    if hint is bool:
        return True
    if hint is int:
        return 7
    if hint is float:
        return 2.25
    return f"{name} «text» ✓"


def made(cls: type[Record]) -> Record:
    hints = typing.get_type_hints(cls)
    values = {name: sample(hints[name], name) for name in cls._fields}
    if "ts" in values:
        values["ts"] = 1_796_148_000.125  # to_dict() keeps milliseconds
    return cls(**values)


def over_the_wire(event: ev.Event) -> ev.Event | None:
    line = wire.encode(wire.event_line(1, event))
    return wire.event_of(wire.decode(line))


def test_every_event_class_round_trips_through_the_wire():
    defined = {
        cls
        for module in EVENT_MODULES
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, ev.Event) and cls is not ev.Event
    }
    assert defined == set(event_classes().values())
    assert len(defined) >= 40
    for cls in defined:
        event = made(cls)
        back = over_the_wire(event)
        assert type(back) is cls, cls
        assert back == event, cls
        for name in cls._fields:  # enums come back as members, tuples as tuples
            assert type(getattr(back, name)) is type(getattr(event, name)), (cls, name)


def test_a_field_named_after_a_keyword_comes_back():
    switched = ev.ProfileSwitched(from_="work", to="home", reason="rate_limit", ts=5.0)
    assert switched.to_dict()["from"] == "work"
    assert over_the_wire(switched) == switched


def test_the_plans_nested_records_come_back_as_records():
    plan = made(ev.PlanLoaded)
    back = over_the_wire(plan)
    assert isinstance(back.phases[0], ev.PhaseView)
    assert isinstance(back.phases[0].subtasks[1], ev.SubtaskView)


def test_an_unknown_type_is_skipped_and_a_broken_event_is_refused():
    assert event_from_dict({"type": "from_a_newer_run", "ts": 1.0}) is None
    with pytest.raises(DecodeError, match="needs the field 'id'"):
        event_from_dict({"type": "subtask_status", "ts": 1.0, "status": "completed"})
    with pytest.raises(DecodeError):
        event_from_dict(
            {
                "type": "loop_state",
                "ts": 1.0,
                "mode": "dancing",
                "session_running": 0,
                "interrupting": 0,
            }
        )
    with pytest.raises(DecodeError):
        record_from_dict(ev.PhaseView, ["not", "an", "object"])
    with pytest.raises(wire.WireError, match="cannot read"):
        wire.event_of({"kind": "event", "event": {"ts": 1.0}})


def test_a_secret_never_crosses_the_wire():
    text = ev.AssistantText(session=1, text=f"my key is {SECRET}", ts=1.0)
    line = wire.encode(wire.event_line(3, text))
    assert SECRET not in line.decode()
    assert b"\n" not in line[:-1]
    assert over_the_wire(text).text.startswith("my key is sk-ant-api03")


def test_a_client_of_another_wire_version_says_so_in_one_line():
    hello = wire.hello({"pid": 1})
    assert wire.check_hello(json.loads(wire.encode(hello))) == {"pid": 1}
    newer = {**hello, "wire": wire.WIRE_VERSION + 1, "agent_tui": "9.0"}
    with pytest.raises(wire.WireMismatch) as refused:
        wire.check_hello(newer)
    said = str(refused.value)
    assert "\n" not in said
    assert f"wire version {wire.WIRE_VERSION + 1} (agent-tui 9.0)" in said
    assert f"speaks {wire.WIRE_VERSION}" in said
    with pytest.raises(wire.WireError, match="did not say hello"):
        wire.check_hello({"kind": "event"})
    with pytest.raises(wire.WireError, match="not JSON"):
        wire.decode(b"\xff\xfe")
