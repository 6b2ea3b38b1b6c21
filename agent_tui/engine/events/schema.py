"""The headless JSON lines (``--events jsonl``) as a JSON Schema, made from the event classes.

Each line is one event: ``type`` (a constant per event) and ``ts`` (epoch seconds), then
every field of the event, always present (``null`` where a field has no value).  The schema
is written from the classes themselves, so ``docs/events.schema.json`` is regenerated, not
written by hand::

    python3 -m agent_tui.engine.events.schema > docs/events.schema.json

and a test fails while the file and the classes disagree.
"""

from __future__ import annotations

import enum
import functools
import json
import sys
import types
import typing
from typing import Any

from agent_tui.engine.events import core, lanes, review, spend, trust, workspace
from agent_tui.engine.events.core import Event, json_name
from agent_tui.engine.events.record import Record

EVENT_MODULES = (core, trust, workspace, review, lanes, spend)
"""Every module that defines events: importing them is what makes the classes known."""
DIALECT = "https://json-schema.org/draft/2020-12/schema"


@functools.cache
def classes_by_type() -> dict[str, type[Event]]:
    """Every event class with a ``type`` of its own, by ``type`` (two alike is a bug)."""
    found: dict[str, type[Event]] = {}
    pending = list(Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.type in found and found[cls.type] is not cls:
            raise ValueError(f"two events are typed {cls.type!r}: {found[cls.type]} and {cls}")
        found[cls.type] = cls
    return found


def event_classes() -> list[type[Event]]:
    """Every event class with a ``type`` of its own, sorted by ``type``."""
    found = classes_by_type()
    return [found[name] for name in sorted(found)]


def schema() -> dict[str, Any]:
    """The whole schema: one line is one of the events in ``$defs``."""
    defs: dict[str, Any] = {}
    classes = event_classes()
    for cls in classes:
        defs[cls.type] = _object(cls, defs, head={"type": {"const": cls.type}})
    return {
        "$schema": DIALECT,
        "title": "agent-tui headless events (--events jsonl)",
        "description": "One JSON object per line on stdout; each is one of these events.",
        "oneOf": [{"$ref": f"#/$defs/{cls.type}"} for cls in classes],
        "$defs": dict(sorted(defs.items())),
    }


def _object(cls: type[Record], defs: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties = dict(head)
    for name in cls._fields:
        properties[json_name(name)] = _value(hints[name], defs)
    summary = _summary(cls)
    described = {"description": summary} if summary else {}
    return {
        "type": "object",
        **described,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _summary(cls: type) -> str:
    """The docstring's first paragraph, on one line ("" for a class without one)."""
    return " ".join((cls.__doc__ or "").split("\n\n")[0].split())


def _value(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema of one field's value, from its type annotation."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [_value(arg, defs) for arg in typing.get_args(hint)]
        if all(list(option) == ["type"] for option in options):
            return {"type": [option["type"] for option in options]}  # "string" or null
        return {"anyOf": options}
    if origin is tuple:
        item, *_ = typing.get_args(hint)
        return {"type": "array", "items": _value(item, defs)}
    if hint is type(None):
        return {"type": "null"}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"type": "string", "enum": [member.value for member in hint]}
    if isinstance(hint, type) and issubclass(hint, Record):
        if hint.__name__ not in defs:
            defs[hint.__name__] = {}  # a placeholder first: a record may hold its own kind
            defs[hint.__name__] = _object(hint, defs, head={})
        return {"$ref": f"#/$defs/{hint.__name__}"}
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if hint in simple:
        return {"type": simple[hint]}
    raise TypeError(f"no JSON Schema for a field of type {hint!r}")


def render() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
