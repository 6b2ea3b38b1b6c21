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
    values = {}
    for name, convert in _fields(cls):
        if name in data:
            value = data[name]
            values[name] = value if convert is None else convert(value)
    try:
        return cls(**values)
    except TypeError as exc:
        raise DecodeError(str(exc)) from None


Convert = typing.Callable[[Any], Any]


@functools.cache
def _fields(cls: type[Record]) -> tuple[tuple[str, Convert | None], ...]:
    """Each field of ``cls`` with what turns its JSON value into the field's (None: the
    value as it is), worked out once per class: a flood of events decodes each the same."""
    hints = typing.get_type_hints(cls)
    return tuple((name, _converter(hints[name])) for name in cls._fields)


def _converter(hint: Any) -> Convert | None:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        inner = _converter(options[0]) if len(options) == 1 else None
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        return _tuple_of(typing.get_args(hint))
    if isinstance(hint, type):
        if issubclass(hint, Record):
            return functools.partial(record_from_dict, hint)
        if issubclass(hint, enum.Enum):
            return functools.partial(_member, hint)
        if hint is float:
            return _float
    return None


def _tuple_of(args: tuple[Any, ...]) -> Convert:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _converter(args[0]) or _same

        def convert(value: Any) -> tuple[Any, ...]:
            return tuple(item(one) for one in _listed(value))

        return convert
    items = [_converter(arg) or _same for arg in args]

    def convert_each(value: Any) -> tuple[Any, ...]:
        return tuple(item(one) for item, one in zip(items, _listed(value), strict=True))

    return convert_each


def _listed(value: Any) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise DecodeError(f"expected a list, not {type(value).__name__}")
    return value


def _same(value: Any) -> Any:
    return value


def _member(kind: type[enum.Enum], value: Any) -> enum.Enum:
    try:
        return kind(value)
    except ValueError:
        raise DecodeError(f"{value!r} is not a {kind.__name__}") from None


def _float(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
