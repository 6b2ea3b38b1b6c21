"""``agent-tui settings [show | set KEY VALUE]``: the settings in profiles.json, without
hand-editing JSON.

A value is read as its setting's type (``true``/``false``, a number, a comma-separated
list, ``none`` for an optional one or an empty list), then the whole settings object is
validated as a run would read it, so a value ``set`` accepts is one a run accepts.  Keys
agent-tui does not know are kept as they are.  The parser is built on every start:
argparse only here.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from typing import TYPE_CHECKING, Any, TextIO

from agent_tui.cli.args import given
from agent_tui.exit_codes import EXIT_BAD_INPUT

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
NONE_WORDS = frozenset({"none", "null", ""})


class SettingError(Exception):
    """A ``set`` that cannot be carried out; one clause."""


def add_settings_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    settings = subparsers.add_parser(
        "settings",
        help="show or change the settings (kept in profiles.json)",
        description="Show every setting with its value and what it does, or set one. "
        "Values: true/false, numbers, comma-separated lists; none clears a list or an "
        "optional setting.",
    )
    actions = settings.add_subparsers(dest="settings_command", metavar="{show,set}")
    actions.add_parser("show", help="every setting, its value and what it does (the default)")
    change = actions.add_parser(
        "set",
        help="set one setting, validated as a run reads it",
        description="Set KEY to VALUE in profiles.json (written atomically).",
    )
    change.add_argument("key", type=given, metavar="KEY")
    change.add_argument("value", metavar="VALUE")
    return settings


def run_settings(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """0 on success; 2 with one line on ``err`` for bad input or an unusable file."""
    from agent_tui.auth.profiles import ProfileStore  # loads pydantic
    from agent_tui.auth.redaction import redact
    from agent_tui.config import ConfigError

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        store = ProfileStore.load()
        if args.settings_command == "set":
            value = set_setting(store, args.key, args.value)
            store.save()
            print(redact(f"{args.key} = {shown(value)}  ({store.path})"), file=out)
        else:
            for line in show_lines(store):
                print(redact(line), file=out)
    except (ConfigError, SettingError) as exc:
        print(redact(f"agent-tui: {exc}"), file=err)
        return EXIT_BAD_INPUT
    return 0


def show_lines(store: Any) -> list[str]:
    """``key = value`` per setting, its description beneath; unknown keys last."""
    settings = store.settings
    lines = [f"# {store.path}"]
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        fallback = info.get_default(call_default_factory=True)
        said = "empty" if fallback == [] else shown(fallback)
        default = "" if value == fallback else f"  (default: {said})"
        lines.append(f"{name} = {shown(value)}{default}")
        lines.append("    " + " ".join((info.description or "").split()))
    for name, value in (settings.model_extra or {}).items():
        lines.append(f"{name} = {shown(value)}  (not a setting agent-tui knows; kept)")
    return lines


def set_setting(store: Any, key: str, text: str) -> Any:
    """Set ``key`` from its command-line ``text`` in ``store`` (not saved); the value set."""
    from pydantic import ValidationError

    settings = store.settings
    fields = type(settings).model_fields
    if key not in fields:
        raise SettingError(f"no setting named {key!r} (settings: {', '.join(fields)})")
    candidate = {**settings.model_dump(), key: _value(key, fields[key], text)}
    try:
        # As JSON, as the file is read: strict, yet an enum setting takes its value's name.
        store.data.settings = type(settings).model_validate_json(json.dumps(candidate))
    except ValidationError as exc:
        raise SettingError(_said(key, exc.errors()[0])) from None
    if key == "readable_paths":
        _refuse_credential_reads(store, store.data.settings.readable_paths)
    return getattr(store.data.settings, key)


BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}
"""pydantic's bound errors, said as the command line says its own ("must be at least 1")."""


def _said(key: str, error: Any) -> str:
    """One validation error as a sentence about ``key``."""
    bound = BOUNDS.get(error.get("type", ""))
    limit = (error.get("ctx") or {}).get(bound[0]) if bound else None
    if bound is not None and limit is not None:
        return f"{key} must be {bound[1]} {limit:g}"
    return f"{key}: {error['msg'].removeprefix('Value error, ')}"


def _refuse_credential_reads(store: Any, readable: list[str]) -> None:
    """As a run refuses it: a readable path that would open a credential store."""
    import os

    from agent_tui.engine.sandbox.containment import ContainmentRefused, refuse_credential_reads

    try:
        refuse_credential_reads(readable, store, os.environ)
    except ContainmentRefused as exc:
        raise SettingError(str(exc)) from None


def _value(key: str, info: FieldInfo, text: str) -> Any:
    """``text`` as a value of the field's type; other types are left to validation."""
    union = typing.get_origin(info.annotation) in (typing.Union, types.UnionType)
    kinds = typing.get_args(info.annotation) if union else (info.annotation,)
    optional = type(None) in kinds
    if optional and text.strip().lower() in NONE_WORDS:
        return None
    kind = next((k for k in kinds if k is not type(None)), str)
    if kind is bool:
        word = text.strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise SettingError(f"{key} is true or false, not {text!r}")
        return word in TRUE_WORDS
    if kind in (int, float):
        try:
            return float(text) if kind is float else int(text)
        except ValueError:
            raise SettingError(f"{key} is a number, not {text!r}") from None
    if typing.get_origin(kind) is list or kind is list:
        return _items(key, text)
    return text


def _items(key: str, text: str) -> list[str]:
    """A comma-separated list; ``none`` alone empties it (an optional list is None by then)."""
    if text.strip().lower() in NONE_WORDS:
        return []
    items = [item.strip() for item in text.split(",") if item.strip()]
    cleared = [item for item in items if item.lower() in NONE_WORDS]
    if cleared:
        raise SettingError(
            f"{key}: {cleared[0]!r} clears the list and cannot be one of its items "
            f"(to clear it: agent-tui settings set {key} none)"
        )
    return items


def shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "(empty)"
    return f"{value:g}" if isinstance(value, float) else str(value)
