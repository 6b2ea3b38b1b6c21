"""agent-tui's own git commands: hooks off, no prompt, nothing inherited that moves them.

Every command agent-tui runs in the user's repository goes through ``Git``:

- ``core.hooksPath=/dev/null``: a hook is code the agent could have planted (in a worktree,
  or in a repository it was cloned from); agent-tui's commits, checkouts and merges run none.
- ``core.fsmonitor=false``, ``gc.auto=0``, ``maintenance.auto=false``: no daemon or
  background job is started by a command agent-tui runs for the user.
- ``GIT_DIR``, ``GIT_WORK_TREE``, ``GIT_INDEX_FILE`` and the like are dropped from the
  environment: a run started from inside a git hook or an editor would otherwise act on
  another repository.  ``GIT_TERMINAL_PROMPT=0``: a command never waits for a password.
- A worktree's commands name its admin dir and root explicitly (``--git-dir``,
  ``--work-tree``) rather than trusting the ``.git`` file inside it, which the agent could
  rewrite to point at a directory of its own (with a config that runs anything).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SAFE_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.quotePath=false",
    "color.ui=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "advice.detachedHead=false",
)
UNSIGNED = "commit.gpgsign=false"
"""For the work branch's commits, made while nobody watches: signing may ask for a
passphrase, which an unattended run cannot give (stdin is closed).  The user's own merge
keeps their signing setting."""
DROPPED_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
)
FALLBACK_NAME = "agent-tui"
FALLBACK_EMAIL = "agent-tui@localhost"
TIMEOUT_S = 900.0
"""A checkout of a large repository (``worktree add``) can take minutes; a git that waits
on something for longer than this is stuck."""


class GitError(Exception):
    """A git command failed, or git is not installed; one sentence."""


@dataclass(frozen=True)
class Result:
    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode("utf-8", "replace").strip()

    @property
    def ok(self) -> bool:
        return self.code == 0


def git_installed(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return shutil.which("git", path=env.get("PATH")) is not None


def git_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of agent-tui's git commands (see the module's docstring)."""
    env = dict(os.environ if environ is None else environ)
    for name in DROPPED_ENV:
        env.pop(name, None)
    for name in [n for n in env if n.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))]:
        env.pop(name)
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_EDITOR": "true",
            "LC_ALL": "C",
        }
    )
    return env


@dataclass(frozen=True)
class Git:
    """Runs git in ``cwd``; with ``git_dir`` and ``work_tree``, in exactly that worktree."""

    cwd: Path
    git_dir: Path | None = None
    work_tree: Path | None = None
    environ: Mapping[str, str] | None = field(default=None, compare=False)

    def argv(self, args: Sequence[str]) -> list[str]:
        argv = ["git", "--no-pager"]
        for setting in SAFE_CONFIG:
            argv += ["-c", setting]
        if self.git_dir is not None:
            argv.append(f"--git-dir={self.git_dir}")
        if self.work_tree is not None:
            argv.append(f"--work-tree={self.work_tree}")
        return argv + list(args)

    def run(
        self,
        *args: str,
        check: bool = True,
        extra_env: Mapping[str, str] | None = None,
        config: Sequence[str] = (),
        stdin: str | None = None,
    ) -> Result:
        """Run ``git args``; ``GitError`` (its first line of stderr) when it fails and
        ``check`` is set.  ``config`` adds ``-c`` settings for this one command."""
        env = git_env(self.environ)
        env.update(extra_env or {})
        argv = self.argv([a for setting in config for a in ("-c", setting)] + list(args))
        try:
            done = subprocess.run(
                argv,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL if stdin is None else None,
                input=None if stdin is None else stdin.encode("utf-8"),
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError:
            raise GitError("git is not installed (it is needed for a worktree per spec)") from None
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]} took more than {TIMEOUT_S:g} s") from None
        except OSError as exc:
            raise GitError(f"git {args[0]} could not run ({exc.strerror or exc})") from None
        result = Result(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))
        if check and not result.ok:
            raise GitError(f"git {args[0]} failed: {first_line(result.err) or result.code}")
        return result

    def text(self, *args: str) -> str:
        return self.run(*args).text

    def identity(self) -> list[str]:
        """``-c`` settings for a commit's author: the user's own where git knows one, else
        agent-tui's (a fresh machine or a CI box has none, and git would refuse)."""
        config = []
        for key, fallback in (("user.name", FALLBACK_NAME), ("user.email", FALLBACK_EMAIL)):
            if not self.run("config", "--get", key, check=False).text:
                config.append(f"{key}={fallback}")
        return config


def first_line(text: str) -> str:
    """The first line of git's message that says something (``fatal:`` / ``error:`` kept)."""
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("hint:"):
            return line[:300]
    return ""
