"""Events to and from plain JSON values: ``to_dict()`` out, the class its ``type`` names in.

The wire and the registry carry events as ``to_dict()`` makes them; this turns one back into
the record it was, field by field as the class annotates it (records inside records, tuples,
enums, ``X | None``).
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from typing import Any

from agent_tui.engine.events import core as ev
from agent_tui.engine.events.record import Record
from agent_tui.engine.events.schema import EVENT_MODULES
from agent_tui.engine.events.schema import classes_by_type as event_classes

__all__ = ["EVENT_MODULES", "DecodeError", "event_classes", "event_from_dict", "record_from_dict"]
RENAMED = {"from": "from_"}
"""Keys ``to_dict()`` renames from a field that is a Python keyword."""


class DecodeError(ValueError):
    """A value that is not the record its type names."""


def event_from_dict(data: dict[str, Any]) -> ev.Event | None:
    """The event ``data`` (a ``to_dict()``) describes; None for a type this version does not
    know (a newer run's), ``DecodeError`` for one it knows that does not fit."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise DecodeError("an event needs a type")
    cls = event_classes().get(data["type"])
    if cls is None:
        return None
    fields = {RENAMED.get(key, key): value for key, value in data.items() if key != "type"}
    return record_from_dict(cls, fields)


def record_from_dict(cls: type[Record], data: dict[str, Any]) -> Any:
    """``cls`` made from ``data``; keys it has no field for are left out."""
    if not isinstance(data, dict):
        raise DecodeError(f"{cls.__name__} needs an object, not {type(data).__name__}")
    hints = _hints(cls)
    values = {name: _value(data[name], hints[name]) for name in cls._fields if name in data}
    try:
        return cls(**values)
    except TypeError as exc:
        raise DecodeError(str(exc)) from None


@functools.cache
def _hints(cls: type[Record]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _value(value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _value(value, options[0]) if len(options) == 1 else value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise DecodeError(f"expected a list, not {type(value).__name__}")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(item, args[0]) for item in value)
        return tuple(_value(item, arg) for item, arg in zip(value, args, strict=True))
    if isinstance(hint, type):
        if issubclass(hint, Record):
            return record_from_dict(hint, value)
        if issubclass(hint, enum.Enum):
            try:
                return hint(value)
            except ValueError:
                raise DecodeError(f"{value!r} is not a {hint.__name__}") from None
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
    return value
