"""What confines a session: Claude Code's sandbox, its tools, read denies, env, settings.

The guard (``guard.py``) is a second layer that parses shell words; the boundary is here:

- ``sandbox``: on Linux bubblewrap (``bwrap``) and ``socat``, on macOS Seatbelt
  (``/usr/bin/sandbox-exec``).  Bash and its children then write only inside the project,
  reach no network unless a setting names hosts, see a fresh ``/proc``, and cannot open a
  Unix socket.  Without ``failIfUnavailable`` the CLI runs Bash unconfined when a piece is
  missing (socat, say) and says nothing, so a session that is meant to be sandboxed always
  sets it and fails instead.
- ``tools``: only the coder's tools exist (no Agent, SendMessage, ListAgents, Cron*, Web*).
  Write and Edit are not pre-approved: ``acceptEdits`` keeps them inside the project and
  refuses the CLI's sensitive files (``.git/hooks``, ``.claude/``, shell rc files); a
  pre-approved Write writes anywhere.
- reads (``reads.py``): the file tools read only the work (and the toolchains); Bash and
  its children see no home, no agent-tui dir, no user's checkout and no other session's
  temp dir, but the work and the toolchains; credential stores are deny rules for all.
  Permission denies are ``Read(//abs/**)`` (one leading ``/`` would be relative to the
  settings file and match nothing); ``Edit(…)`` denies become read-only mounts.
- temp dir (``tmpdirs.py``): each session its own, which no other session can read.
- ``setting_sources=[]``: a project's ``.claude/settings.json`` adds no hooks, env or
  permissions, and its ``CLAUDE.md`` is not loaded; the SDK's own hook still runs.
- env: the SDK merges the parent's environment under ``options.env``, which can blank a
  variable but not remove it, so every inherited secret is set to ``""``; the session's
  own token stays for the CLI, and the sandbox unsets it for Bash's children.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_tui.auth.redaction import CREDENTIAL_ENV, redact, register_secret
from agent_tui.config import (
    ContainmentMode,
    Settings,
    app_config_dir,
    app_data_dir,
    app_state_dir,
    worktrees_dir,
)
from agent_tui.engine.events import core as ev
from agent_tui.engine.sandbox.reads import ReadScope, Workplace, existing, read_scope
from agent_tui.engine.sandbox.tmpdirs import TempDirs, UnsafeTmp
from agent_tui.files import LinkRefused, real_dir

if TYPE_CHECKING:
    from agent_tui.auth.profiles import ProfileStore

CODER_TOOLS = ("Read", "Write", "Edit", "Glob", "Grep", "Bash")
PREAPPROVED_TOOLS = ("Read", "Glob", "Grep", "Bash")
CLI_SECRET_ENV = (*CREDENTIAL_ENV, "CLAUDE_CODE_MESSAGING_TOKEN")
"""What the CLI holds that Bash's children must not see (the sandbox unsets them)."""
CLI_CONFIG_ENV = ("CLAUDE_CONFIG_DIR", "CLAUDE_SECURESTORAGE_CONFIG_DIR")
"""Where the user's own login keeps its credentials (not a profile's, perhaps)."""
RECORDS_IN_SPEC = ("logs", "memory", ".agent-tui.lock")
"""agent-tui's record of a run: the agent must not forge its transcripts or history."""
USER_CONTROLS_IN_SPEC = ("HUMAN_INPUT.md", "PAUSE")
"""The user's note to the next session and the user's pause: the agent writing them would
speak to itself as the user, or stall the run."""
PROTECTED_IN_SPEC = RECORDS_IN_SPEC + USER_CONTROLS_IN_SPEC
SANDBOX_REFUSED = "Sandbox required but unavailable"
"""How the CLI's error starts when a sandbox it was told to require cannot start."""
SEATBELT = "/usr/bin/sandbox-exec"
INSTALL_HINT = "apt-get install -y bubblewrap socat (dnf or pacman: bubblewrap socat)"

_SECRET_NAME = re.compile(
    r"(?i)(?:^|_)(?:TOKEN|KEY|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIALS?|AUTH|APIKEY|"
    r"ASKPASS|PAT)S?(?:_|$)"
)
_SECRET_PREFIXES = ("AWS_",)
_PROXY_NAMES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
"""The CLI reaches the API through these; the sandbox sets its own for Bash's children."""
_URL_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


class ContainmentRefused(Exception):
    """Containment is required and the sandbox cannot start; the message says what to do."""


@dataclass(frozen=True)
class SandboxCheck:
    """What Claude Code's sandbox needs that this machine lacks (nothing: it can start)."""

    missing: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return not self.missing

    def refusal(self) -> str:
        return (
            f"containment is required but Claude Code's sandbox cannot start here "
            f"({'; '.join(self.missing)}): install what it needs ({INSTALL_HINT}), or set "
            '"containment": "auto" in the settings of profiles.json to run unsandboxed'
        )


Runner = Callable[..., subprocess.CompletedProcess]


def check_sandbox(
    environ: Mapping[str, str] | None = None,
    *,
    platform: str = sys.platform,
    which: Callable[..., str | None] = shutil.which,
    run: Runner = subprocess.run,
) -> SandboxCheck:
    """Check what the CLI checks before it sandboxes Bash, on the PATH it will have.

    Linux (not WSL 1): ``bwrap`` and ``socat`` on PATH, and bwrap able to make a user and a
    network namespace (AppArmor or a container can forbid it).  macOS: Seatbelt.
    """
    env = os.environ if environ is None else environ
    if platform == "darwin":
        return SandboxCheck(() if os.access(SEATBELT, os.X_OK) else (f"{SEATBELT} missing",))
    if not platform.startswith("linux"):
        return SandboxCheck((f"Claude Code has no sandbox on {platform}",))
    if _is_wsl1():
        return SandboxCheck(("WSL 1 has no sandbox: use WSL 2",))
    path = env.get("PATH")
    missing = [f"{name} not installed" for name in ("bwrap", "socat") if not which(name, path=path)]
    bwrap = which("bwrap", path=path)
    if bwrap:
        problem = _namespace_problem(bwrap, run)
        if problem:
            missing.append(problem)
    return SandboxCheck(tuple(missing))


def _is_wsl1() -> bool:
    try:
        with open("/proc/version", encoding="utf-8", errors="replace") as handle:
            version = handle.read().lower()
    except OSError:
        return False
    return "microsoft" in version and "wsl2" not in version


def _namespace_problem(bwrap: str, run: Runner) -> str | None:
    argv = [bwrap, "--unshare-user", "--unshare-net", "--dev-bind", "/", "/", "true"]
    try:
        done = run(argv, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap cannot run ({type(exc).__name__})"
    if done.returncode == 0:
        return None
    reason = (done.stderr or b"").decode("utf-8", "replace").strip().splitlines()
    return "bwrap cannot create namespaces here" + (f" ({reason[-1][:120]})" if reason else "")


def protected_paths(spec_dir: Path) -> tuple[Path, ...]:
    """The spec's logs, memory and lock (written by agent-tui only), and the user's note
    and pause (written by the user, or agent-tui for the user, only)."""
    return tuple(spec_dir / name for name in PROTECTED_IN_SPEC)


def sandbox_for(mode: ContainmentMode) -> SandboxCheck | None:
    """The sandbox check a run in ``mode`` starts with (None for ``off``: nothing to check);
    ``ContainmentRefused`` when the mode requires a sandbox this machine cannot start."""
    if mode is ContainmentMode.OFF:
        return None
    sandbox = check_sandbox()
    if mode is ContainmentMode.REQUIRED and not sandbox.available:
        raise ContainmentRefused(sandbox.refusal())
    return sandbox


def check_records(spec_dir: Path) -> None:
    """``LinkRefused`` when the spec's ``logs`` or ``memory`` is a link or not a directory."""
    for name in ("logs", "memory"):
        path = spec_dir / name
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise LinkRefused(
                f"{path} is a symbolic link or not a directory: agent-tui writes its records "
                "only into a real directory; remove it"
            )


def prepare_records(spec_dir: Path) -> None:
    """Make the spec's ``logs/`` and ``memory/`` real directories before a session, so the
    sandbox has them to mount read-only; ``LinkRefused`` when one is a link."""
    for name in ("logs", "memory"):
        real_dir(spec_dir / name)


def is_secret_variable(name: str, value: str) -> bool:
    """A variable a session must not inherit: by its name, or a value that looks secret."""
    if name.lower() in _PROXY_NAMES:
        return False
    if name.startswith(_SECRET_PREFIXES) or _SECRET_NAME.search(name):
        return True
    return bool(value) and (redact(value) != value or _URL_PASSWORD.search(value) is not None)


@dataclass(frozen=True)
class Containment:
    """Everything a session's ``ClaudeAgentOptions`` needs to keep its agent contained."""

    mode: ContainmentMode
    sandboxed: bool
    project_dir: Path
    read_denied: tuple[str, ...] = ()
    """Credential stores: a ``Read`` deny rule each."""
    write_denied: tuple[str, ...] = ()
    reads: ReadScope = field(default_factory=ReadScope)
    temp: TempDirs | None = None
    """Where each session's own temp dir goes (None: the CLI's shared one, in tests)."""
    token_env: tuple[str, ...] = ()
    """Every profile's token variable: blanked unless it is this session's own."""
    tools: tuple[str, ...] = CODER_TOOLS
    allowed_hosts: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        settings: Settings,
        profiles: ProfileStore,
        project_dir: Path,
        spec_dir: Path,
        sandbox: SandboxCheck,
        environ: Mapping[str, str] | None = None,
        git_dirs: Iterable[Path] = (),
        *,
        place: Workplace | None = None,
        worktrees: Path | None = None,
        temp: TempDirs | None = None,
    ) -> Containment:
        """Decide the run's containment; ``ContainmentRefused`` when required and missing.

        ``git_dirs`` are the repository's files git keeps its history and settings in: the
        agent may read them (``git log``, ``git diff``) but not write them, or it could
        commit, move a branch, or plant a hook or config that agent-tui's git would run.
        ``place`` is where the session works (default: the project, in place), and
        ``worktrees`` where agent-tui keeps the worktrees (default: its data dir's); the
        sessions' temp dirs go under ``temp`` (default: ``/tmp/agent-tui-<uid>``)."""
        env = os.environ if environ is None else environ
        mode = settings.containment
        if mode is ContainmentMode.REQUIRED and not sandbox.available:
            raise ContainmentRefused(sandbox.refusal())
        try:
            temp = temp or TempDirs.prepare()
        except (UnsafeTmp, OSError) as exc:
            raise ContainmentRefused(str(exc)) from None
        config_dirs = [p.config_dir for p in profiles.data.profiles if p.config_dir]
        config_dirs += [env[name] for name in CLI_CONFIG_ENV if env.get(name)]
        homes = {os.path.expanduser("~"), env.get("HOME") or ""} - {""}
        ours = (app_config_dir(), app_state_dir(), app_data_dir(), worktrees or worktrees_dir())
        reads = read_scope(
            place or Workplace(project_dir),
            homes=homes,
            secrets=[*config_dirs, str(app_config_dir())],
            regions=[*map(str, ours), str(temp.root), *map(str, temp.shared)],
            readable=settings.readable_paths,
        )
        extra = tuple(t for t in settings.extra_tools if t not in CODER_TOOLS)
        return cls(
            mode=mode,
            sandboxed=mode is not ContainmentMode.OFF and sandbox.available,
            project_dir=project_dir,
            read_denied=reads.secrets,
            write_denied=reads.secrets + _spec_records(spec_dir) + existing(map(str, git_dirs)),
            reads=reads,
            temp=temp,
            token_env=tuple(p.token_env for p in profiles.data.profiles if p.token_env),
            tools=CODER_TOOLS + extra,
            allowed_hosts=tuple(settings.allowed_hosts),
            missing=() if mode is ContainmentMode.OFF else sandbox.missing,
        )

    def status(self) -> ev.ContainmentStatus:
        return ev.ContainmentStatus(
            mode=str(self.mode),
            sandboxed=self.sandboxed,
            missing=self.missing,
            allowed_hosts=self.allowed_hosts,
            home_readable=_shown_homes(self.reads.toolchains),
        )

    @contextlib.contextmanager
    def session_tmp(self) -> Iterator[Path | None]:
        """The temp dir of one session (the CLI's or the check's), removed as it ends;
        ``OSError`` when it cannot be made."""
        if self.temp is None:
            yield None
            return
        with self.temp.session() as path:
            yield path

    def option_fields(
        self,
        env: Mapping[str, str],
        inherited: Mapping[str, str] | None = None,
        *,
        tmp_dir: Path | None = None,
    ) -> dict[str, Any]:
        """The ``ClaudeAgentOptions`` fields that contain a session with ``env``, its
        temp dir ``tmp_dir`` (from ``session_tmp``)."""
        extra = tuple(t for t in self.tools if t not in CODER_TOOLS)
        own = {**env, "CLAUDE_CODE_TMPDIR": str(tmp_dir)} if tmp_dir else env
        return {
            "tools": list(self.tools),
            "allowed_tools": [*PREAPPROVED_TOOLS, *extra],
            "env": self.session_env(own, os.environ if inherited is None else inherited),
            "setting_sources": [],
            "strict_mcp_config": True,
            "sandbox": self.sandbox_settings(tmp_dir),
            "settings": json.dumps({"permissions": self.permissions(tmp_dir)}),
        }

    def sandbox_settings(self, tmp_dir: Path | None = None) -> dict[str, Any] | None:
        """Bash sandboxed, pre-approved (agent-tui's guard still runs first: without the
        approval, the read block asks about a command it cannot analyze, and nobody is
        there to answer), and reading only what ``reads`` re-opens in what it hides."""
        if not self.sandboxed:
            return None
        own = existing([str(tmp_dir)]) if tmp_dir else ()
        return {
            "enabled": True,
            "failIfUnavailable": True,
            "allowUnsandboxedCommands": False,
            "autoAllowBashIfSandboxed": True,
            "network": {"allowedDomains": list(self.allowed_hosts), "strictAllowlist": True},
            "credentials": {"envVars": [{"name": n, "mode": "deny"} for n in CLI_SECRET_ENV]},
            "filesystem": {
                "denyRead": list(self.reads.hidden),
                "allowRead": [*self.reads.reopened, *own],
            },
        }

    def permissions(self, tmp_dir: Path | None = None) -> dict[str, Any]:
        """The deny rules, and the file tools held to the working directory, the
        toolchains and the session's temp dir (where the CLI tells the model to read a
        background command's output).  Sandboxed, that block binds Bash too; unsandboxed
        only the file tools, or the CLI would ask about every command it cannot analyze."""
        block = (
            "blockReadsOutsideWorkingDirectories"
            if self.sandboxed
            else "blockFileToolReadsOutsideWorkingDirectories"
        )
        exempt = [*self.reads.toolchains, *(existing([str(tmp_dir)]) if tmp_dir else ())]
        rules: dict[str, Any] = {"deny": self.deny_rules(), block: True}
        if exempt:
            rules["blockReadsExemptPaths"] = exempt
        return rules

    def deny_rules(self) -> list[str]:
        """``Read(//abs)`` and ``Read(//abs/**)`` per path: a file, or a whole directory."""
        rules = []
        for tool, paths in (("Read", self.read_denied), ("Edit", self.write_denied)):
            for path in paths:
                rules += [f"{tool}(/{path})", f"{tool}(/{path}/**)"]
        return rules

    def session_env(self, env: Mapping[str, str], inherited: Mapping[str, str]) -> dict[str, str]:
        """``env`` plus a blank for every inherited secret ``env`` does not set itself."""
        scrubbed = dict(env)
        for name in self.token_env:
            scrubbed.setdefault(name, "")
        for name, value in inherited.items():
            if name in env:
                continue
            if name in self.token_env or is_secret_variable(name, value):
                register_secret(value)  # masked too, should it ever show
                scrubbed[name] = ""
        return scrubbed


def _shown_homes(paths: Iterable[str]) -> tuple[str, ...]:
    """The re-opened paths of a home as ``~/…``, once each (a real path not repeated)."""
    home = os.path.expanduser("~")
    shown: list[str] = []
    for path in paths:
        text = "~" + path[len(home) :] if path.startswith(home + os.sep) else path
        if text not in shown:
            shown.append(text)
    return tuple(shown)


def _spec_records(spec_dir: Path) -> tuple[str, ...]:
    """This spec's logs, memory and lock (made before each session, so the sandbox mounts
    them read-only), and the existing logs and memory of the specs beside it."""
    records = [str(path) for path in protected_paths(spec_dir)]
    if spec_dir.parent.name == "specs":
        try:
            siblings = sorted(p for p in spec_dir.parent.iterdir() if p.is_dir())
        except OSError:
            siblings = []
        for sibling in siblings[:100]:
            if sibling != spec_dir:
                records += [str(p) for p in (sibling / "logs", sibling / "memory") if p.is_dir()]
    return tuple(os.path.abspath(p) for p in records)


class NotWritable(Exception):
    """The spec dir cannot hold what a run records; one sentence."""


def check_writable(spec_dir: Path) -> None:
    """Refuse a run before any session if its plan, history or transcripts cannot be written
    (a read-only disk or directory): a paid session whose record is lost helps nobody."""
    for directory in (spec_dir, spec_dir / "memory", spec_dir / "logs"):
        if not directory.is_dir():
            continue
        try:
            with tempfile.TemporaryFile(dir=directory, prefix=".agent-tui-probe-"):
                pass
        except OSError as exc:
            raise NotWritable(
                f"cannot write in {directory} ({exc.strerror or exc}): a run records its "
                "plan, history and transcripts there"
            ) from None
