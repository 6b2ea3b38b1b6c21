"""A user's repository for the workspace tests: real git in a temp dir."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

USER = ("-c", "user.name=The User", "-c", "user.email=user@example.com")


def git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["git", *USER, *args], cwd=repo, capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout


def make_repo(
    path: Path,
    files: dict[str, str] | None = None,
    *,
    ignore_specs: bool = True,
    plan: dict[str, Any] | None = None,
    spec: str = "001-test",
) -> tuple[Path, Path]:
    """A repository with one commit of ``files`` and a spec dir (ignored, as upstream's
    ``.auto-claude/`` usually is, unless ``ignore_specs`` is False: then tracked)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    for name, text in (files or {"README.md": "# project\n"}).items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    if ignore_specs:
        (path / ".gitignore").write_text(".auto-claude/\n")
    spec_dir = path / ".auto-claude" / "specs" / spec
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "spec.md").write_text("# the spec\n")
    if plan is not None:
        (spec_dir / "implementation_plan.json").write_text(json.dumps(plan, indent=2) + "\n")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "start")
    return path, spec_dir


def snapshot(repo: Path, *, index_bytes: bool = True) -> dict[str, str]:
    """HEAD, the index and every file of the checkout outside .git and the spec dirs, as
    bytes' digests: equal snapshots are byte-identical states.  ``index_bytes=False``
    compares the index's entries only (a merge git aborts rewrites its file with new
    timestamps, the same entries)."""
    state = {
        "HEAD": (repo / ".git" / "HEAD").read_text(),
        "head commit": git(repo, "rev-parse", "HEAD"),
        "index entries": git(repo, "ls-files", "--stage"),
        "status": git(repo, "--no-optional-locks", "status", "--porcelain", "--ignored"),
    }
    if index_bytes:
        state["index"] = _digest(repo / ".git" / "index")
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if rel.startswith((".git/", ".auto-claude/")) or rel in (".git", ".auto-claude"):
            continue
        state[rel] = _digest(path) if path.is_file() else "dir"
    return state


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def branch_log(repo: Path, branch: str) -> list[str]:
    """The branch's commit subjects since ``main``, oldest first."""
    out = git(repo, "log", "--reverse", "--format=%s", f"main..{branch}")
    return out.splitlines()
