"""The layers of DESIGN.md hold (import-linter's contracts in pyproject.toml), and private
Textual names are used in one module."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import textual

import agent_tui

PACKAGE = Path(agent_tui.__file__).parent
COMPAT = PACKAGE / "tui" / "textual_compat.py"


CHECKOUT = Path(__file__).resolve().parents[2]
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"
"""``lint-imports``, from this Python (the command may be another's on PATH)."""


def lint_imports(config: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the package as it is now, with the contracts in ``config``."""
    return subprocess.run(
        [sys.executable, "-c", LINT, "--config", str(config), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=CHECKOUT,
        timeout=120,
    )


def test_the_layer_contracts_hold():
    """DESIGN.md's layers, as the contracts in pyproject.toml state them (CI runs them)."""
    result = lint_imports(CHECKOUT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_see_an_import_that_points_up(tmp_path):
    """A contract that cannot fail proves nothing: the app imports the engine, so a
    contract forbidding that must be reported broken."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_package = "agent_tui"\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "upside down"\n'
        'type = "forbidden"\n'
        'source_modules = ["agent_tui.tui"]\n'
        'forbidden_modules = ["agent_tui.engine"]\n'
    )
    result = lint_imports(config)
    assert result.returncode != 0
    assert "agent_tui.tui.app -> agent_tui.engine" in result.stdout


def test_loading_the_engine_and_the_plan_loads_no_textual():
    names = [
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for folder in ("engine", "plan", "workspace")
        for path in sorted((PACKAGE / folder).rglob("*.py"))
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "agent_tui.engine.loop" in names
    assert out.stdout.strip() == "[]"


PRIVATE_TEXTUAL_MODULE = re.compile(r"textual(\.[a-z_]+)*\._[a-z]|from textual[^ ]* import _")


def test_only_the_compat_module_names_a_private_textual_module():
    naming = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if PRIVATE_TEXTUAL_MODULE.search(path.read_text(encoding="utf-8"))
    ]
    assert naming == ["tui/textual_compat.py"]


def private_names_defined(paths) -> set[str]:
    """``_name``s that ``paths`` give attributes, methods or class attributes."""
    names: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(
                    sub.attr
                    for target in targets
                    for sub in ast.walk(target)
                    if isinstance(sub, ast.Attribute)
                )
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        names.add(item.name)
                    elif isinstance(item, ast.Assign):
                        names.update(t.id for t in item.targets if isinstance(t, ast.Name))
                    elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        names.add(item.target.id)
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def test_only_the_compat_module_reaches_for_a_private_textual_attribute():
    """Any ``x._name`` where Textual defines ``_name`` and agent-tui does not (outside the
    compat module) is Textual's own: it belongs in ``textual_compat``."""
    ours = [path for path in sorted(PACKAGE.rglob("*.py")) if path != COMPAT]
    textuals = private_names_defined(Path(textual.__file__).parent.rglob("*.py"))
    theirs = textuals - private_names_defined(ours)
    assert {"_driver", "_bindings_ready", "_writer_thread"} <= theirs  # the check can see
    reaching = []
    for path in ours:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {
            alias.asname or alias.name.partition(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or node.attr not in theirs:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in modules - {"textual"}:
                continue  # a private name of another module (os._exit)
            reaching.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.attr}")
    assert reaching == []
