"""Frozen, keyword-only value records: what the loop's events are made of.

Why not ``dataclasses``: on Python 3.11 a dataclass compiles its generated methods with
``exec`` when the class is made, about 0.6 ms per frozen class.  The events module has 23
of them and the app loads it before its first frame, so they cost ~13 ms on every start.
A ``Record`` subclass is made in microseconds: its fields are read from the annotations
once, and the methods below serve every subclass.

A record has keyword-only fields (the annotated names, base classes' first; ``ClassVar``
names are not fields), a default for a field given a value in the class body or a
``field(default_factory=...)``, comparison and hashing by type and values, a readable
``repr``, no assignment after ``__init__``, and pickles as an ordinary object.  Type
checkers see it as a frozen keyword-only dataclass (``dataclass_transform``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar, dataclass_transform

_MISSING: Any = object()


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], Any]) -> Any:
    """A default made afresh for each record, as ``dataclasses.field(default_factory=)``."""
    return _Factory(default_factory)


class FrozenRecordError(AttributeError):
    """A record's fields cannot be set or deleted once it is made."""


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class Record:
    """Base of the frozen records; see the module docstring."""

    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = list(cls._fields)
        defaults = dict(cls._defaults)
        for name, annotation in inspect.get_annotations(cls).items():
            if _is_class_var(annotation):
                continue
            if name not in fields:
                fields.append(name)
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
                if isinstance(defaults[name], _Factory):
                    delattr(cls, name)
            elif name in defaults:  # redeclared without a default: required again
                del defaults[name]
        cls._fields = tuple(fields)
        cls._defaults = defaults

    def __init__(self, **values: Any) -> None:
        for name in self._fields:
            value = values.pop(name, _MISSING)
            if value is _MISSING:
                value = self._defaults.get(name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{type(self).__name__}() needs the field {name!r}")
                if isinstance(value, _Factory):
                    value = value.make()
            object.__setattr__(self, name, value)
        if values:
            unknown = ", ".join(repr(name) for name in values)
            raise TypeError(f"{type(self).__name__}() has no field {unknown}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r}: records are frozen")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r}: records are frozen")

    def as_dict(self) -> dict[str, Any]:
        """Fields and values, records inside (also in tuples and lists) as dicts too."""
        return {name: _plain(getattr(self, name)) for name in self._fields}


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.as_dict()
    if isinstance(value, tuple | list):
        return type(value)(_plain(item) for item in value)
    return value


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))
