"""The layers of DESIGN.md hold: imports point down only, and private Textual names are used
in one module.

Read from the source files (``ast``) under each folder as it is now, so a module added
later is covered without a change here.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import textual

import agent_tui

PACKAGE = Path(agent_tui.__file__).parent
COMPAT = PACKAGE / "tui" / "textual_compat.py"


def modules_under(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (lazy imports in functions too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, top: str) -> bool:
    return name == top or name.startswith(top + ".")


def offenders(folders: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for folder in folders:
        for path in modules_under(folder):
            for name in sorted(imported(path)):
                if any(within(name, top) for top in forbidden):
                    found.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return found


@pytest.mark.parametrize(
    ("folders", "forbidden"),
    [
        (("engine", "plan"), ("textual", "agent_tui.tui")),
        (("tui",), ("agent_tui.sim",)),
        (("tui", "engine", "plan", "auth"), ("agent_tui.startup", "agent_tui.cli")),
        (("workspace",), ("textual", "agent_tui.tui", "agent_tui.engine", "agent_tui.startup")),
    ],
    ids=[
        "engine-and-plan-know-no-textual",
        "tui-knows-no-sim",
        "only-cli-knows-startup",
        "workspace-is-below-the-engine",
    ],
)
def test_imports_point_down_only(folders, forbidden):
    assert offenders(folders, forbidden) == []


def test_the_check_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    """A check that cannot see an import proves nothing: it must see these two."""
    engine = tmp_path / "agent_tui" / "engine"
    engine.mkdir(parents=True)
    (engine / "late.py").write_text("def f():\n    from textual.widgets import Tree\n")
    (engine / "near.py").write_text("from ..tui import app\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "agent_tui")
    assert offenders(("engine",), ("textual", "agent_tui.tui")) == [
        "engine/late.py imports textual.widgets",
        "engine/late.py imports textual.widgets.Tree",
        "engine/near.py imports agent_tui.tui",
        "engine/near.py imports agent_tui.tui.app",
    ]


def test_loading_the_engine_and_the_plan_loads_no_textual():
    names = [module_name(path) for folder in ("engine", "plan") for path in modules_under(folder)]
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
