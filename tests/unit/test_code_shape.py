"""The shape the code keeps so a newcomer can hold each part: no function over 70 lines,
and no ``setup.py`` build hook.  Modules are split by meaning, and the layers are import
contracts (``test_import_layers``), not a line cap.

Read from the source as it is now (``ast``), so a module added later is covered.
"""

from __future__ import annotations

import ast
from pathlib import Path

import agent_tui

PACKAGE = Path(agent_tui.__file__).parent
CHECKOUT = Path(__file__).resolve().parents[2]
FUNCTION_LINES = 70


def long_functions(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_LINES:
                    found.append(f"{path.relative_to(root)}: {node.name} has {lines} lines")
    return found


def test_no_function_is_over_70_lines():
    assert long_functions(PACKAGE) == []


def test_the_check_sees_a_long_function(tmp_path):
    body = "".join(f"    x{n} = {n}\n" for n in range(FUNCTION_LINES))
    (tmp_path / "big.py").write_text("def f():\n" + body)
    assert long_functions(tmp_path) == [f"big.py: f has {FUNCTION_LINES + 1} lines"]


def test_there_is_no_setup_py():
    assert (CHECKOUT / "pyproject.toml").is_file()
    assert not (CHECKOUT / "setup.py").exists()
