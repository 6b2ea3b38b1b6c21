"""The built wheel works where no checkout is: its stylesheets load from site-packages.

The wheel is built from a copy of this checkout's sources (an in-tree build would leave
``build/`` and an egg-info in the checkout) without build isolation, so no package is
downloaded, and is installed into a fresh venv that imports agent_tui only from its own
site-packages and everything else (the SDK is large) from the environment running the
tests: a venv's site-packages or the system's, whichever that is.  (``--system-site-packages``
would not do: made from inside a venv, it sees the base Python's packages, not the venv's.)
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The checkout these tests are in (agent_tui may be imported from an installed copy)."""

STYLES_LOAD = textwrap.dedent("""
    import asyncio, inspect, json, sys
    from pathlib import Path

    import agent_tui
    from agent_tui.tui.app import AgentApp
    from agent_tui.tui.screens.confirm_quit import ConfirmQuit
    from agent_tui.tui.screens.profile_picker import ProfilePicker
    from agent_tui.tui.screens.subtask_detail import SubtaskDetail

    def no_loop(sink):
        raise RuntimeError("no loop here: only the styles are looked at")

    async def styled() -> dict:
        app = AgentApp(no_loop)
        async with app.run_test() as pilot:
            panes = str(app.query_one("#panes").styles.height)
            app.push_screen(ConfirmQuit())
            await pilot.pause()
            confirm = str(app.screen.query_one("#confirm").styles.width)
        return {"panes_height": panes, "confirm_width": confirm}

    screens = (ConfirmQuit, ProfilePicker, SubtaskDetail)
    sheets = [Path(AgentApp.CSS_PATH)]
    sheets += [Path(inspect.getfile(screen)).with_name(screen.CSS_PATH) for screen in screens]
    print(json.dumps({
        "package": str(Path(agent_tui.__file__).parent),
        "sheets": [str(sheet) for sheet in sheets if sheet.is_file()],
        **asyncio.run(styled()),
    }))
""")


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "agent_tui", source / "agent_tui", ignore=shutil.ignore_patterns("__pycache__")
    )
    dist = tmp_path / "dist"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "--no-index", "--quiet", str(source), "--wheel-dir", str(dist)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = dist.glob("agent_tui-*.whl")
    return wheel


def site_dirs() -> list[str]:
    """Where this environment's packages are: its site-packages (a venv's, and the base
    Python's too when the venv sees them) and the user's, if Python reads it."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        dirs.append(site.getusersitepackages())
    return dirs


def make_venv(venv: Path) -> Path:
    """A venv whose own site-packages comes first, then this environment's: a ``.pth``
    file adds its directories as plain paths, so the ``.pth`` files in them (an editable
    agent-tui among them) are not run there.  Its python."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60
    )
    own = next((venv / "lib").glob("python3*/site-packages"))
    (own / "tests-environment.pth").write_text("".join(f"{d}\n" for d in site_dirs()))
    return venv / "bin" / "python"


def test_the_venv_sees_the_packages_of_the_environment_running_the_tests(tmp_path):
    python = make_venv(tmp_path / "venv")
    found = subprocess.run(
        [str(python), "-c", "import textual, claude_agent_sdk; print(textual.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
    )
    assert found.returncode == 0, found.stderr
    import textual

    assert found.stdout.strip() == textual.__file__


def test_the_installed_wheel_loads_its_stylesheets_from_site_packages(tmp_path):
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    python = make_venv(venv)
    # --ignore-installed: the system's agent-tui (an editable install) is neither reused
    # nor touched; this one goes into the venv.
    pip_install = [str(python), "-m", "pip", "install", "--no-deps", "--no-index"]
    subprocess.run(
        [*pip_install, "--ignore-installed", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    run = {"cwd": tmp_path, "env": env, "capture_output": True, "text": True, "timeout": 60}

    styles = subprocess.run([str(python), "-c", STYLES_LOAD], check=False, **run)
    assert styles.returncode == 0, styles.stderr
    found = json.loads(styles.stdout)
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    assert found["package"] == str(site_packages / "agent_tui")
    assert found["sheets"] == [
        str(site_packages / "agent_tui" / "tui" / "app.tcss"),
        *(
            str(site_packages / "agent_tui" / "tui" / "screens" / f"{name}.tcss")
            for name in ("confirm_quit", "profile_picker", "subtask_detail")
        ),
    ]
    assert (found["panes_height"], found["confirm_width"]) == ("1fr", "64")

    helped = subprocess.run([str(venv / "bin" / "agent-tui"), "--help"], check=False, **run)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: agent-tui")
