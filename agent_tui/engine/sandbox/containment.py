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
- permission denies (``Read(//abs/**)``; one leading ``/`` would be relative to the
  settings file and match nothing) bind Read, Grep, Glob, Bash commands that name the path,
  and the sandbox's own mounts; ``Edit(…)`` denies become read-only mounts.
- the spec dirs are write-denied to Bash as whole directories (``sandbox.filesystem.
  denyWrite``), never file by file.  For every Bash command the sandbox mounts each denied
  path: an existing one read-only in place, a missing one inside a writable root as an
  empty read-only file (mode 0444) it creates on the host, deletes when the command ends
  if it is still empty (whoever wrote it meanwhile: a user's ``touch PAUSE`` is lost), and
  leaves behind when the CLI is killed.  A host unlink or rename over a file mounted on its
  own drops that mount inside the running sandbox.  Under a denied directory nothing is
  made and a host replace opens nothing, so the user's ``PAUSE`` and ``HUMAN_INPUT.md`` and
  agent-tui's records live there.  ``denyWrite`` binds Bash only: the ``Edit(…)`` denies
  keep Write and Edit off the records and controls, and Edit still edits the plan.
- reads (``reads.py``): the file tools read only the work (and the toolchains); Bash and
  its children see no home, no agent-tui dir, no user's checkout and no other session's
  temp dir, but the work and the toolchains; credential stores are deny rules for all.
  Permission denies are ``Read(//abs/**)`` (one leading ``/`` would be relative to the
  settings file and match nothing).
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
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_tui.auth.redaction import CREDENTIAL_ENV, register_secret
from agent_tui.auth.secret_env import is_secret_variable
from agent_tui.config import (
    ContainmentMode,
    Settings,
    app_config_dir,
    app_data_dir,
    app_state_dir,
    worktrees_dir,
)
from agent_tui.engine.events import core as ev
from agent_tui.engine.sandbox.reads import (
    ReadScope,
    Workplace,
    credential_store_at,
    existing,
    read_scope,
)
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
SPECS_FOLDER = "specs"
SANDBOX_REFUSED = "Sandbox required but unavailable"
"""How the CLI's error starts when a sandbox it was told to require cannot start."""
SEATBELT = "/usr/bin/sandbox-exec"
INSTALL_HINT = "apt-get install -y bubblewrap socat (dnf or pacman: bubblewrap socat)"


class ContainmentRefused(Exception):
    """Containment is required and the sandbox cannot start, or a setting would open a
    credential store; the message says what to do."""


def _homes_and_logins(profiles: ProfileStore, env: Mapping[str, str]) -> tuple[set[str], list[str]]:
    """The home dirs a session's reads are judged against, and the login dirs that are
    credential stores besides the homes' well-known ones: each profile's, the CLI's own
    that ``env`` names, and agent-tui's config dir."""
    homes = {os.path.expanduser("~"), env.get("HOME") or ""} - {""}
    logins = [p.config_dir for p in profiles.data.profiles if p.config_dir]
    logins += [env[name] for name in CLI_CONFIG_ENV if env.get(name)]
    return homes, [*logins, str(app_config_dir())]


def refuse_credential_reads(
    readable: Iterable[str], profiles: ProfileStore, env: Mapping[str, str]
) -> None:
    """``ContainmentRefused`` for the first of the ``readable_paths`` setting that is, lies
    in or holds a credential store (``~/.ssh``, ``~/.config``, ``/etc/shadow``, a login)."""
    homes, secrets = _homes_and_logins(profiles, env)
    for path in readable:
        store = credential_store_at(path, homes, secrets)
        if store is not None:
            raise ContainmentRefused(
                f"readable path {path!r} would open the credential store {store}, which no "
                "session may read: take it out of readable_paths"
            )


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


class SpecHoldsProject(ContainmentRefused):
    """The spec dir holds the directory the agent works in: write-denying it would make the
    whole project read-only, and file by file the sandbox would lose the user's pause."""


def spec_root(spec_dir: Path) -> Path:
    """What Bash must not write for a spec: the whole ``specs/`` folder it sits in (the other
    specs' records and controls too), or the spec dir itself."""
    return spec_dir.parent if spec_dir.parent.name == SPECS_FOLDER else spec_dir


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
    """Make the spec's ``logs/`` and ``memory/`` real directories before a session;
    ``LinkRefused`` when one is a link."""
    for name in ("logs", "memory"):
        real_dir(spec_dir / name)


@dataclass(frozen=True)
class Containment:
    """Everything a session's ``ClaudeAgentOptions`` needs to keep its agent contained."""

    mode: ContainmentMode
    sandboxed: bool
    project_dir: Path
    read_denied: tuple[str, ...] = ()
    """Credential stores: a ``Read`` deny rule each."""
    write_denied: tuple[str, ...] = ()
    bash_read_only: tuple[str, ...] = ()
    """Whole directories Bash may read but not write: the spec dirs (``denyWrite``)."""
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
        spec_copy: Path | None = None,
        *,
        place: Workplace | None = None,
        worktrees: Path | None = None,
        temp: TempDirs | None = None,
    ) -> Containment:
        """Decide the run's containment; ``ContainmentRefused`` when required and missing,
        or when sandboxed and the spec dir holds ``project_dir``.

        ``git_dirs`` are the repository's files git keeps its history and settings in: the
        agent may read them (``git log``, ``git diff``) but not write them, or it could
        commit, move a branch, or plant a hook or config that agent-tui's git would run.
        They are denied also when missing (in place, a ``.git`` not there yet): the sandbox
        then mounts a placeholder there, and nothing can be made in its place.
        ``spec_copy`` is the agent's copy of the spec in a worktree; ``place`` is where the
        session works (default: the project, in place), and ``worktrees`` where agent-tui
        keeps the worktrees (default: its data dir's); the sessions' temp dirs go under
        ``temp`` (default: ``/tmp/at-<uid>``)."""
        env = os.environ if environ is None else environ
        mode = settings.containment
        if mode is ContainmentMode.REQUIRED and not sandbox.available:
            raise ContainmentRefused(sandbox.refusal())
        sandboxed = mode is not ContainmentMode.OFF and sandbox.available
        spec_roots = existing(str(spec_root(d)) for d in (spec_dir, spec_copy) if d is not None)
        if sandboxed:
            _refuse_spec_holding(project_dir, spec_roots)
        try:
            temp = temp or TempDirs.prepare()
        except (UnsafeTmp, OSError) as exc:
            raise ContainmentRefused(str(exc)) from None
        homes, secrets = _homes_and_logins(profiles, env)
        refuse_credential_reads(settings.readable_paths, profiles, env)
        ours = (app_config_dir(), app_state_dir(), app_data_dir(), worktrees or worktrees_dir())
        reads = read_scope(
            place or Workplace(project_dir),
            homes=homes,
            secrets=secrets,
            regions=[*map(str, ours), str(temp.root), *map(str, temp.shared)],
            readable=settings.readable_paths,
        )
        extra = tuple(t for t in settings.extra_tools if t not in CODER_TOOLS)
        return cls(
            mode=mode,
            sandboxed=sandboxed,
            project_dir=project_dir,
            read_denied=reads.secrets,
            write_denied=reads.secrets + _spec_records(spec_dir) + _real_too(map(str, git_dirs)),
            bash_read_only=spec_roots,
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
        there to answer), writing no spec dir, and reading only what ``reads`` re-opens in
        what it hides.  ``filesystem`` is not in the SDK's type; the SDK passes it on."""
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
                "denyWrite": list(self.bash_read_only),
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


def _refuse_spec_holding(project_dir: Path, spec_roots: Iterable[str]) -> None:
    project = os.path.realpath(project_dir)
    for root in spec_roots:
        if project == root or project.startswith(root.rstrip(os.sep) + os.sep):
            raise SpecHoldsProject(
                f"the spec's folder {root} holds the project the agent works in "
                f"({project_dir}): the sandbox could keep the run's records, PAUSE and "
                "HUMAN_INPUT.md out of the agent's reach only by making the whole project "
                "read-only; put the spec in the project's .auto-claude/specs/"
            )


def _real_too(paths: Iterable[str]) -> tuple[str, ...]:
    """Each path, and its real path when it exists and differs."""
    found: list[str] = []
    for path in paths:
        absolute = os.path.abspath(path)
        for form in (absolute, os.path.realpath(absolute)):
            if form not in found:
                found.append(form)
    return tuple(found)


def _spec_records(spec_dir: Path) -> tuple[str, ...]:
    """This spec's records and controls, and the existing logs and memory of the specs
    beside it: the ``Edit`` denies that keep Write and Edit off them (the sandbox makes no
    mount of its own for a path under a write-denied directory)."""
    records = [str(path) for path in protected_paths(spec_dir)]
    if spec_dir.parent.name == SPECS_FOLDER:
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
