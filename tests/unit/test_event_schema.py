"""The JSON lines' schema (``docs/events.schema.json``) and the README's list of events stay
in step with the event classes, and what headless mode writes is what the schema says."""

from __future__ import annotations

import asyncio
import io
import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest

from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.engine.clock import VirtualClock
from agent_tui.engine.events.record import Record
from agent_tui.engine.events.schema import event_classes, render, schema
from agent_tui.engine.loop import CoderLoop, LoopConfig
from agent_tui.engine.sandbox.containment import SandboxCheck
from agent_tui.headless import format_json, run_headless
from agent_tui.workspace.location import in_place
from tests.unit.loop_harness import TOKEN, ScriptedSessions, write_plan

CHECKOUT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = CHECKOUT / "docs" / "events.schema.json"
REGENERATE = "python3 -m agent_tui.engine.events.schema > docs/events.schema.json"


def test_the_schema_file_is_the_one_the_event_classes_make():
    assert SCHEMA_FILE.read_text() == render(), f"the events changed: run `{REGENERATE}`"


def test_every_event_class_is_in_the_schema_once():
    types = [cls.type for cls in event_classes()]
    assert len(types) == len(set(types))
    assert {"plan_review", "plan_approved", "profile_switched", "loop_finished"} <= set(types)
    assert [ref["$ref"].split("/")[-1] for ref in schema()["oneOf"]] == types


def test_the_readme_lists_every_event_type():
    readme = (CHECKOUT / "README.md").read_text()
    section = readme.split("### Headless events (JSON lines)", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]*) \|", section, flags=re.MULTILINE)
    listed = {name: re.findall(r"`([a-z_]+)`", fields) for name, fields in rows[1:]}
    assert rows[0][0] == "type"  # the header
    properties = {name: list(rule["properties"]) for name, rule in schema()["$defs"].items()}
    assert listed == {cls.type: properties[cls.type][2:] for cls in event_classes()}


def check(value: Any, rule: dict[str, Any], defs: dict[str, Any], where: str) -> None:
    """The part of JSON Schema the event schema uses, enough to hold a line to it."""
    if "$ref" in rule:
        return check(value, defs[rule["$ref"].split("/")[-1]], defs, where)
    if "const" in rule:
        assert value == rule["const"], where
    if "enum" in rule:
        assert value in rule["enum"], where
    if "anyOf" in rule:
        failures = 0
        for option in rule["anyOf"]:
            try:
                check(value, option, defs, where)
            except AssertionError:
                failures += 1
        assert failures < len(rule["anyOf"]), where
    kinds = rule.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        assert any(is_kind(value, kind) for kind in kinds), f"{where}: {value!r} is no {kinds}"
    if "properties" in rule:
        assert set(value) == set(rule["required"]) == set(rule["properties"]), where
        for key, sub in rule["properties"].items():
            check(value[key], sub, defs, f"{where}.{key}")
    if "items" in rule:
        for number, item in enumerate(value):
            check(item, rule["items"], defs, f"{where}[{number}]")
    return None


def is_kind(value: Any, kind: str) -> bool:
    return {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }[kind]


def sample(hint: Any) -> Any:
    """A value of the annotated type (the first option of a union that is not None)."""
    origin = typing.get_origin(hint)
    if origin is not None and origin is not tuple:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return sample(args[0])
    if origin is tuple:
        return (sample(typing.get_args(hint)[0]),)
    if isinstance(hint, type) and issubclass(hint, Record):
        hints = typing.get_type_hints(hint)
        return hint(**{name: sample(hints[name]) for name in hint._fields})
    if isinstance(hint, type) and hasattr(hint, "__members__"):
        return next(iter(hint))
    return {str: "text", int: 3, float: 1.5, bool: True}[hint]


@pytest.mark.parametrize("cls", event_classes(), ids=lambda cls: cls.type)
def test_each_events_json_line_is_what_the_schema_says(cls):
    made = json.loads(format_json(sample(cls)))
    full = schema()
    check(made, full["$defs"][cls.type], full["$defs"], cls.type)


def test_a_headless_run_writes_only_lines_the_schema_allows(tmp_path):
    project = tmp_path / "project"
    spec_dir = project / ".auto-claude" / "specs" / "001-x"
    write_plan(spec_dir, ["1.1", "1.2"])
    profiles = ProfileStore.in_memory([Profile(name="a", token_env="TOKEN_A")], active="a")
    sessions = ScriptedSessions(spec_dir / "implementation_plan.json")

    def make_loop(sink):
        config = LoopConfig(
            project_dir=project,
            spec_dir=spec_dir,
            sandbox=SandboxCheck(),
            workspace=in_place(project, spec_dir, "not a git repository"),
        )
        return CoderLoop(
            config,
            profiles,
            sink,
            clock=VirtualClock(),
            environ={"TOKEN_A": TOKEN},
            session_factory=sessions,
        )

    out = io.StringIO()
    assert asyncio.run(run_headless(make_loop, "jsonl", out)) == 0
    full = schema()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {line["type"] for line in lines} >= {"plan_loaded", "session_started", "loop_finished"}
    for number, line in enumerate(lines):
        check(line, full["$defs"][line["type"]], full["$defs"], f"line {number + 1}")
