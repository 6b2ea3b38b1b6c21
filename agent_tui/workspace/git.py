"""agent-tui's own git commands: inert over a tree the agent wrote.

Every command agent-tui runs goes through ``Git``, outside any sandbox, over files a hostile
agent may have written (the worktree, its ``.gitattributes``, nested repositories).  So no
command runs code or configuration a repository controls, and none carries a secret:

- Fixed ``-c`` settings (``SAFE_CONFIG``): no hooks, fsmonitor, pager, background job,
  credential helper, ssh command, network protocol, submodule recursion, or implicit bare
  repository (a directory that only looks like a git dir is not one to agent-tui).
- Per repository, every ``filter.<name>`` driver any config scope defines is blanked (its
  clean, smudge and process run nothing), every ``merge.<name>`` driver is replaced by
  ``git merge-file``, every ``hook.<name>`` is disabled: the agent's ``.gitattributes`` can
  name the user's drivers, and only enumerating them reaches each one.  git-lfs alone is
  kept (a program the user installed on purpose), and never online
  (``GIT_LFS_SKIP_SMUDGE``; ``lfs_checkout`` fills files in from local objects).
- Per command: ``--no-textconv --no-ext-diff`` on what prints a diff (blanking those keys
  instead makes git run an empty command and fail), ``--ignore-submodules=all`` where it
  applies, ``--no-stat`` on a merge.
- An environment built from an allowlist (``ENV_KEPT``), never a secret in it: the user's
  git config files and PATH, nothing that moves a command to another repository or injects
  config, no token variable of any profile.
- A worktree's commands name its admin dir and root explicitly (``--git-dir``,
  ``--work-tree``) rather than trusting the ``.git`` file inside it.
- Output is bounded: a command's stdout is read up to a limit (``OUTPUT_LIMIT`` unless the
  caller asks for less, and then cut rather than refused), or streamed (``stream``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from agent_tui.auth.secret_env import is_secret_variable

SAFE_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.untrackedCache=false",
    "core.quotePath=false",
    "core.sshCommand=false",
    "core.askPass=",
    "color.ui=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "diff.ignoreSubmodules=all",
    "diff.submodule=short",
    "submodule.recurse=false",
    "status.submoduleSummary=false",
    "fetch.recurseSubmodules=false",
    "log.showSignature=false",
    "merge.stat=false",
    "advice.detachedHead=false",
    "advice.addEmbeddedRepo=false",
    "protocol.allow=never",
    "credential.helper=",
    "safe.bareRepository=explicit",
)
UNSIGNED = "commit.gpgsign=false"
"""For the work branch's commits, made while nobody watches: signing may ask for a
passphrase, which an unattended run cannot give (stdin is closed).  The user's own merge
keeps their signing setting."""
MERGE_FILE = "git merge-file -L ours -L base -L theirs --marker-size=%L %A %O %B"
"""What every configured merge driver is replaced by: git's own three-way file merge."""
TRUSTED_FILTERS = frozenset({"lfs"})
ENV_KEPT = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "TZ",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM",
)
"""The user's environment as git sees it: where its config and programs are.  Anything
else (``GIT_DIR``, ``GIT_CONFIG_PARAMETERS``, ``GIT_EXTERNAL_DIFF``, ``GIT_SSH_COMMAND``,
``GIT_TRACE``, every token variable) stays out."""
ENV_SET = {
    "LC_ALL": "C",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_EDITOR": "true",
    "GIT_SEQUENCE_EDITOR": "true",
    "GIT_ASKPASS": "true",
    "SSH_ASKPASS": "true",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_LFS_SKIP_SMUDGE": "1",
}
_NO_DIFF_CODE = ("--no-textconv", "--no-ext-diff")
SUBCOMMAND_FLAGS: dict[str, tuple[str, ...]] = {
    "diff": (*_NO_DIFF_CODE, "--ignore-submodules=all", "--no-color"),
    "diff-tree": (*_NO_DIFF_CODE, "--ignore-submodules=all"),
    "diff-index": (*_NO_DIFF_CODE, "--ignore-submodules=all"),
    "diff-files": (*_NO_DIFF_CODE, "--ignore-submodules=all"),
    "show": (*_NO_DIFF_CODE, "--no-color"),
    "log": (*_NO_DIFF_CODE, "--no-color"),
    "status": ("--ignore-submodules=all",),
    "merge": ("--no-stat", "--no-verify"),
}
"""Flags each subcommand gets right after its name (the caller's arguments follow)."""
_ALONE = frozenset({"--abort", "--continue", "--quit"})
"""``merge --abort`` and the like take no other option."""
FALLBACK_NAME = "agent-tui"
FALLBACK_EMAIL = "agent-tui@localhost"
TIMEOUT_S = 900.0
"""A checkout of a large repository (``worktree add``) can take minutes; a git that waits
on something for longer than this is stuck."""
OUTPUT_LIMIT = 64 * 1024 * 1024
"""What a command may print before agent-tui refuses it: lists of paths and refs stay far
below; a diff a caller wants whole is asked for with a smaller ``limit`` and cut."""
ERROR_LIMIT = 64 * 1024
_CHUNK = 1 << 16


class GitError(Exception):
    """A git command failed, or git is not installed; one sentence."""


@dataclass(frozen=True)
class Result:
    code: int
    out: bytes
    err: str
    truncated: bool = False
    """The output went past the limit the caller set: ``out`` holds its beginning."""

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
    source = os.environ if environ is None else environ
    env = {
        name: source[name]
        for name in ENV_KEPT
        if name in source and not is_secret_variable(name, source[name])
    }
    env.update(ENV_SET)
    return env


@dataclass(frozen=True)
class Drivers:
    """The drivers the repository's config defines, by name (read, never run)."""

    filters: tuple[str, ...] = ()
    merges: tuple[str, ...] = ()
    hooks: tuple[str, ...] = ()

    @property
    def lfs(self) -> bool:
        return "lfs" in self.filters

    def overrides(self) -> list[str]:
        """``-c`` settings that leave each driver inert (git-lfs aside)."""
        settings = []
        for name in self.filters:
            if name not in TRUSTED_FILTERS:
                settings += [f"filter.{name}.{key}=" for key in ("clean", "smudge", "process")]
                settings.append(f"filter.{name}.required=false")
        settings += [f"merge.{name}.driver={MERGE_FILE}" for name in self.merges]
        for name in self.hooks:
            settings += [f"hook.{name}.enabled=false", f"hook.{name}.command="]
        return settings


def parse_drivers(listed: bytes) -> Drivers:
    """The names in ``git config -z --name-only --get-regexp '^(filter|merge|hook)\\.'``;
    ``GitError`` for a name no ``-c`` setting can address (it holds ``=`` or a line end)."""
    found: dict[str, list[str]] = {"filter": [], "merge": [], "hook": []}
    for raw in listed.split(b"\0"):
        key = raw.decode("utf-8", "surrogateescape")
        section, _, rest = key.partition(".")
        name = rest.rpartition(".")[0]
        if section not in found or not name:
            continue
        if "=" in name or "\n" in name:
            raise GitError(
                f"the git config defines a {section} named {name!r}, which agent-tui cannot "
                "switch off for its own commands: rename it"
            )
        if name not in found[section]:
            found[section].append(name)
    return Drivers(tuple(found["filter"]), tuple(found["merge"]), tuple(found["hook"]))


@dataclass(frozen=True)
class Git:
    """Runs git in ``cwd``; with ``git_dir`` and ``work_tree``, in exactly that worktree."""

    cwd: Path
    git_dir: Path | None = None
    work_tree: Path | None = None
    environ: Mapping[str, str] | None = field(default=None, compare=False)

    def argv(self, args: Sequence[str], overrides: Sequence[str] = ()) -> list[str]:
        argv = ["git", "--no-pager"]
        for setting in (*SAFE_CONFIG, *overrides):
            argv += ["-c", setting]
        if self.git_dir is not None:
            argv.append(f"--git-dir={self.git_dir}")
        if self.work_tree is not None:
            argv.append(f"--work-tree={self.work_tree}")
        return argv + list(args)

    def drivers(self) -> Drivers:
        """The filter, merge and hook names every config scope of this repository defines
        (includes followed)."""
        done = self.read_config("-z", "--name-only", "--get-regexp", r"^(filter|merge|hook)\.")
        return parse_drivers(done.out)

    def read_config(self, *args: str) -> Result:
        """``git config args`` (a read: it runs nothing, so it needs no driver overrides);
        ``GitError`` unless it found something or nothing (exit 1)."""
        argv = self.argv(["config", *args])
        done = self._spawn(argv, git_env(self.environ), None, OUTPUT_LIMIT, "config")
        if done.code not in (0, 1) or done.truncated:
            raise GitError(f"git config failed: {first_line(done.err) or done.code}")
        return done

    def run(
        self,
        *args: str,
        check: bool = True,
        extra_env: Mapping[str, str] | None = None,
        config: Sequence[str] = (),
        stdin: str | bytes | None = None,
        limit: int | None = None,
    ) -> Result:
        """Run ``git args``; ``GitError`` (its first line of stderr) when it fails and
        ``check`` is set.  ``config`` adds ``-c`` settings for this one command.  With
        ``limit``, the output past that many bytes is dropped (``Result.truncated``);
        without, past ``OUTPUT_LIMIT`` the command is refused."""
        try:
            argv, env = self._prepared(args, extra_env, config)
        except GitError as exc:
            if check:
                raise
            return Result(128, b"", str(exc))  # not run: its drivers could not be read
        data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
        result = self._spawn(argv, env, data, limit or OUTPUT_LIMIT, args[0])
        if result.truncated and limit is None:
            raise GitError(f"git {args[0]} printed more than {OUTPUT_LIMIT // 2**20} MB")
        if check and not result.ok and not result.truncated:  # cut short: by agent-tui
            raise GitError(f"git {args[0]} failed: {first_line(result.err) or result.code}")
        return result

    @contextlib.contextmanager
    def stream(self, *args: str, extra_env: Mapping[str, str] | None = None) -> Iterator[IO[bytes]]:
        """``git args`` with its output as a pipe to read as it comes; ``GitError`` after
        the block when the command failed (not when the block stopped reading early)."""
        argv, env = self._prepared(args, extra_env, ())
        with tempfile.TemporaryFile() as err:
            process = self._popen(argv, env, err, args[0])
            assert process.stdout is not None
            timer = _Deadline(process)
            finished = False
            try:
                yield process.stdout
                finished = True
            finally:
                timer.cancel()
                if not finished or process.stdout.read(1):
                    process.kill()  # stopped early: the rest is not wanted
                    finished = False
                process.stdout.close()
                code = process.wait()
            if finished and code != 0:
                err.seek(0)
                message = err.read(ERROR_LIMIT).decode("utf-8", "replace")
                raise GitError(f"git {args[0]} failed: {first_line(message) or code}")

    def _prepared(
        self, args: Sequence[str], extra_env: Mapping[str, str] | None, config: Sequence[str]
    ) -> tuple[list[str], dict[str, str]]:
        env = git_env(self.environ)
        env.update(extra_env or {})
        try:
            drivers = self.drivers()
        except GitError as exc:  # said as the command's own failure: it did not run
            reason = str(exc).removeprefix("git config failed: ")
            raise GitError(f"git {args[0]} failed: {reason}") from None
        return self.argv(with_flags(args), [*drivers.overrides(), *config]), env

    def lfs_checkout(self) -> None:
        """Fill in the git-lfs files a checkout left as pointers, from the objects already
        stored locally (offline: git-lfs never goes online for agent-tui, whose trees, and
        after a merge the user's HEAD, hold the agent's ``.lfsconfig``)."""
        if self.drivers().lfs:
            self.run("lfs", "checkout", check=False)

    def _popen(
        self, argv: list[str], env: dict[str, str], err: IO[bytes], name: str, feed: bool = False
    ) -> subprocess.Popen:
        try:
            return subprocess.Popen(
                argv,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        except FileNotFoundError:
            raise GitError("git is not installed (it is needed for a worktree per spec)") from None
        except OSError as exc:
            raise GitError(f"git {name} could not run ({exc.strerror or exc})") from None

    def _spawn(
        self, argv: list[str], env: dict[str, str], data: bytes | None, limit: int, name: str
    ) -> Result:
        with tempfile.TemporaryFile() as err:
            process = self._popen(argv, env, err, name, feed=data is not None)
            assert process.stdout is not None
            feeder = threading.Thread(target=_feed, args=(process.stdin, data), daemon=True)
            if data is not None:
                feeder.start()
            timer = _Deadline(process)
            kept = bytearray()
            truncated = False
            try:
                while chunk := process.stdout.read(_CHUNK):
                    room = limit - len(kept)
                    if len(chunk) > room:
                        kept += chunk[:room]
                        truncated = True
                        process.kill()  # the rest is not wanted: stop making it
                        break
                    kept += chunk
            finally:
                process.stdout.close()
                code = process.wait()
                timer.cancel()
                if data is not None:
                    feeder.join()
            if timer.expired:
                raise GitError(f"git {name} took more than {TIMEOUT_S:g} s")
            err.seek(0)
            message = err.read(ERROR_LIMIT).decode("utf-8", "replace")
        return Result(code, bytes(kept), message, truncated)

    def text(self, *args: str) -> str:
        return self.run(*args).text

    def identity(self) -> list[str]:
        """``-c`` settings for a commit's author: the user's own where git knows one, else
        agent-tui's (a fresh machine or a CI box has none, and git would refuse)."""
        config = []
        for key, fallback in (("user.name", FALLBACK_NAME), ("user.email", FALLBACK_EMAIL)):
            if not self.read_config("--get", key).text:
                config.append(f"{key}={fallback}")
        return config


def with_flags(args: Sequence[str]) -> list[str]:
    """``args`` with the subcommand's ``SUBCOMMAND_FLAGS`` after its name."""
    if not args or (len(args) > 1 and args[1] in _ALONE):
        return list(args)
    return [args[0], *SUBCOMMAND_FLAGS.get(args[0], ()), *args[1:]]


class _Deadline:
    """Kills a git that is still running ``TIMEOUT_S`` after it started."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.expired = False
        self._timer = threading.Timer(TIMEOUT_S, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        with contextlib.suppress(OSError):
            self.process.kill()

    def cancel(self) -> None:
        self._timer.cancel()


def _feed(pipe: IO[bytes], data: bytes | None) -> None:
    """Write ``data`` to git's stdin and close it (a thread: git may print before reading
    all of it, and a pipe holds only so much)."""
    with contextlib.suppress(OSError):
        if data:
            pipe.write(data)
    with contextlib.suppress(OSError):
        pipe.close()


def first_line(text: str) -> str:
    """The first line of git's message that says something (``fatal:`` / ``error:`` kept)."""
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("hint:"):
            return line[:300]
    return ""
