"""No text from data reaches a Textual API that parses markup as a ``str``.

``Static``, ``Label``, ``Button``, an ``Option``, ``update`` and ``border_title`` read a
``str`` as content markup: a plan's ``[/bold]`` crashes them, ``[@click=app.quit]`` acts.
Text built from data (an f-string, ``redact``/``printable``/``str`` of something) goes
through ``rich.text.Text``; a literal is the app's own words.  Notices are plain text in
``AgentApp.notify`` (see ``tests/tui/test_hostile_markup.py``).

Read from the source as it is now (``ast``), so a screen added later is covered.
"""

from __future__ import annotations

import ast
from pathlib import Path

import agent_tui

TUI = Path(agent_tui.__file__).parent / "tui"
PARSING_CALLS = {"Static", "Label", "Button", "Option", "update"}
PARSING_ATTRIBUTES = {"border_title", "border_subtitle"}
DATA_CALLS = {"redact", "printable", "str", "format", "join"}


def _from_data(node: ast.expr) -> bool:
    """A ``str`` made from something else: an f-string, a sum, or a string function's."""
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return True
    if isinstance(node, ast.BoolOp):
        return any(_from_data(value) for value in node.values)
    if isinstance(node, ast.Subscript):
        return _from_data(node.value)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name in DATA_CALLS
    return False


def markup_from_data(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in PARSING_CALLS and _from_data(node.args[0]):
                    found.append(f"{where}: {name}() of a str made from data")
            if isinstance(node, ast.Assign) and _from_data(node.value):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr in PARSING_ATTRIBUTES:
                        found.append(f"{where}: {target.attr} = a str made from data")
    return sorted(found)


def test_no_widget_parses_a_str_made_from_data():
    assert markup_from_data(TUI) == []


def test_the_check_sees_data_given_to_a_widget_as_a_str(tmp_path):
    (tmp_path / "screen.py").write_text(
        "Static(redact(subtask.description) or '(none)')\n"
        "box.border_title = printable(f'{s.id} {s.description}')[:80]\n"
        "Label(f'{name} applies')\n"
        "Static(Text(redact(subtask.description)))\n"
        "Label('a literal')\n"
    )
    assert markup_from_data(tmp_path) == [
        "screen.py:1: Static() of a str made from data",
        "screen.py:2: border_title = a str made from data",
        "screen.py:3: Label() of a str made from data",
    ]
