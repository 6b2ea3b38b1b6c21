"""Change one value inside a JSON text and leave every other byte as it was.

The plan belongs to the user and the agent as much as to agent-tui: when agent-tui records a
status, the file keeps its layout, key order, number spelling and legacy names; only the
one value changes.  ``json`` gives no positions, so this scans the text itself.  It is only
used on text that ``json.loads`` has already accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from json.decoder import scanstring

_WS = re.compile(r"[ \t\n\r]*")
_TO_BRACKET = re.compile(r'(?:[^"\[\]{}]+|"[^"\\]*(?:\\.[^"\\]*)*")*')
"""Everything up to the next bracket outside a string (the text is valid JSON)."""
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")

Path = Sequence[str | int]


def _ws(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _skip(text: str, i: int) -> int:
    """The index just past the JSON value that starts at ``i`` (no recursion).  Strings
    and everything between brackets are passed over by one regular expression each, so
    the loop turns once per bracket: a plan of thousands of subtasks takes milliseconds."""
    i = _ws(text, i)
    char = text[i]
    if char == '"':
        return scanstring(text, i + 1)[1]
    if char not in "[{":
        match = _SCALAR.match(text, i)
        if match is None:
            raise ValueError(f"not JSON at offset {i}")
        return match.end()
    depth = 0
    while True:
        i = _TO_BRACKET.match(text, i).end()  # type: ignore[union-attr]
        if i == len(text) or text[i] not in "[]{}":
            raise ValueError(f"not JSON at offset {i}")
        depth += 1 if text[i] in "[{" else -1
        i += 1
        if depth == 0:
            return i


def _member(text: str, i: int, key: str) -> tuple[int, int] | None:
    """The span of ``key``'s value in the object at ``i`` (the last one, as json.loads)."""
    found = None
    i = _ws(text, i) + 1  # past "{"
    while True:
        i = _ws(text, i)
        if text[i] == "}":
            return found
        if text[i] == ",":
            i += 1
            continue
        name, i = scanstring(text, _ws(text, i) + 1)
        i = _ws(text, i) + 1  # past ":"
        start = _ws(text, i)
        end = _skip(text, start)
        if name == key:
            found = (start, end)
        i = end


def _element(text: str, i: int, index: int) -> tuple[int, int] | None:
    i = _ws(text, i) + 1  # past "["
    position = 0
    while True:
        i = _ws(text, i)
        if text[i] == "]":
            return None
        if text[i] == ",":
            i += 1
            continue
        start = i
        end = _skip(text, start)
        if position == index:
            return (start, end)
        position += 1
        i = end


def span(text: str, path: Path) -> tuple[int, int] | None:
    """Where the value at ``path`` (object keys and array indices) is in ``text``."""
    start = _ws(text, 0)
    if not path:
        return start, _skip(text, start)
    end = start
    for step in path:
        opener = text[start]
        if isinstance(step, str) and opener == "{":
            found = _member(text, start, step)
        elif isinstance(step, int) and opener == "[":
            found = _element(text, start, step)
        else:
            return None
        if found is None:
            return None
        start, end = found
    return start, end


def replace(text: str, path: Path, value: object) -> str:
    """``text`` with the value at ``path`` set to ``value``; a missing last key is added."""
    found = span(text, path)
    encoded = json.dumps(value, ensure_ascii=False)
    if found is not None:
        return text[: found[0]] + encoded + text[found[1] :]
    parent = span(text, path[:-1])
    if parent is None or text[parent[0]] != "{" or not isinstance(path[-1], str):
        raise KeyError(list(path))
    inside = text[parent[0] + 1 : parent[1] - 1]
    member = f"{json.dumps(path[-1], ensure_ascii=False)}: {encoded}"
    closing = parent[1] - 1
    if inside.strip():
        body_end = parent[0] + 1 + len(inside.rstrip())
        return text[:body_end] + ", " + member + text[body_end:]
    return text[:closing] + member + text[closing:]
