"""A user's repository with every kind of code a repository can make git run, and a worktree
the agent filled with more: the lab agent-tui's own git is tested against.

Each payload appends its tag to ``canary`` (and whether it saw the token variable), so a
canary that stays missing means nothing ran.  ``plain_git`` runs git as a person would,
without agent-tui's hardening: over the same lab it fires, which shows the lab is live.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from agent_tui.workspace.location import Location, locate
from agent_tui.workspace.worktree import Worktree, open_worktree
from tests.integration.git_repo import make_repo

TOKEN_ENV = "AGENT_TUI_LAB_TOKEN"
TOKEN = "sk-ant-oat01-LABTOKENxxxxxxxxxxxxxxxxxxxx0123456789"
HOOKS = (
    "pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-checkout",
    "post-merge", "pre-merge-commit", "reference-transaction", "post-index-change",
    "pre-auto-gc", "post-rewrite",
)  # fmt: skip
OLD = time.time() - 30 * 86400
"""An mtime older than the index: git then reads the file again (running its filter)."""


@dataclass
class Lab:
    root: Path
    user: Path
    spec_dir: Path
    canary: Path
    payload: Path
    gpg: Path
    bin_dir: Path
    environ: dict[str, str]

    def fired(self) -> list[str]:
        if not self.canary.exists():
            return []
        return sorted(set(self.canary.read_text().split()))

    def location(self, spec_dir: Path | None = None) -> Location:
        return locate(
            self.user, spec_dir or self.spec_dir, root=self.root / "worktrees", environ=self.environ
        )

    def worktree(self, location: Location | None = None) -> Worktree:
        return open_worktree(location or self.location(), self.environ)

    def plain_git(self, cwd: Path, *args: str) -> subprocess.CompletedProcess:
        """git as a person runs it, in the lab's environment (token and all)."""
        return subprocess.run(
            ["git", "-c", "user.name=u", "-c", "user.email=u@u", *args],
            cwd=cwd, env=self.environ, capture_output=True, timeout=60, check=False,
        )  # fmt: skip


def run(tag: str, payload: Path) -> str:
    return f"{payload} {tag}"


def build(tmp_path: Path) -> Lab:
    root = tmp_path
    canary = root / "canary"
    payload = root / "payload.sh"
    payload.write_text(
        textwrap.dedent(f"""\
        #!/bin/sh
        seen=no; [ -n "${TOKEN_ENV}" ] && seen=yes
        echo "$1:token=$seen" >> {canary}
        exit 0
        """)
    )
    payload.chmod(0o755)
    gpg = root / "gpg.sh"  # gpg.program names a program, not a shell command line
    gpg.write_text(f"#!/bin/sh\n{payload} INCLUDED-gpg\nexit 1\n")
    gpg.chmod(0o755)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    _fake_lfs(bin_dir / "git-lfs", canary)
    (root / "home").mkdir()
    files = {"a.txt": "a\n", "data.u": _lines("u"), "w.inc": "w\n"}
    user, spec_dir = make_repo(root / "user", files)
    (spec_dir.parent / "002-other").mkdir()
    (spec_dir.parent / "002-other" / "spec.md").write_text("# another spec\n")
    lab = Lab(root, user, spec_dir, canary, payload, gpg, bin_dir, {})
    agent_config = lab_worktree_path(lab) / ".agent.gitconfig"
    _hostile_user_config(user, payload, agent_config)
    (user / ".gitattributes").write_text("*.bin filter=lfs\n")
    (user / "asset.bin").write_text("v1\n")
    look(lab, user, "add", "--all")
    look(lab, user, "commit", "--quiet", "-m", "user drivers")
    lab.environ = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(root / "home"),
        "GIT_CONFIG_GLOBAL": os.environ["GIT_CONFIG_GLOBAL"],
        "GIT_CONFIG_NOSYSTEM": "1",
        TOKEN_ENV: TOKEN,
        "GIT_EXTERNAL_DIFF": run("ENV-external-diff", payload),
        "GIT_PAGER": run("ENV-pager", payload),
        "GIT_SSH_COMMAND": run("ENV-ssh", payload),
        "GIT_CONFIG_PARAMETERS": f"'core.fsmonitor'='{run('ENV-fsmonitor', payload)}'",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "core.hooksPath",
        "GIT_CONFIG_VALUE_0": str(root / "env-hooks"),
    }
    _hooks(root / "env-hooks", "ENVHOOK", payload)
    return lab


def lab_worktree_path(lab: Lab) -> Path:
    """Where the spec's worktree goes (``locate`` only reads)."""
    location = locate(lab.user, lab.spec_dir, root=lab.root / "worktrees")
    assert location.worktree is not None
    return location.worktree


def look(lab: Lab, repo: Path, *args: str) -> str:
    """git for the test's own look at a repository: nothing of the lab's fires."""
    quiet = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c",
             "user.name=u", "-c", "user.email=u@u", "-c", "filter.ufilt.clean=",
             "-c", "filter.ufilt.smudge=", "-c", "filter.ufilt.process=",
             "-c", "commit.gpgSign=false")  # fmt: skip
    env = {
        "PATH": f"{lab.bin_dir}:{os.environ['PATH']}",
        "HOME": str(lab.root / "home"),
        "GIT_CONFIG_GLOBAL": os.environ["GIT_CONFIG_GLOBAL"],
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(
        ["git", *quiet, *args], cwd=repo, env=env, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def _lines(tag: str) -> str:
    return "".join(f"{tag} line {n}\n" for n in range(1, 21))


def _fake_lfs(path: Path, canary: Path) -> None:
    """git-lfs as far as the lab needs: clean and smudge pass content through; a smudge
    allowed online (no ``GIT_LFS_SKIP_SMUDGE``) in a tree whose ``.lfsconfig`` names the
    agent's server is the exfiltration the real one does."""
    path.write_text(
        textwrap.dedent(f"""\
        #!/bin/sh
        case "$1" in
          smudge)
            if [ "$GIT_LFS_SKIP_SMUDGE" != 1 ] && grep -qs exfil .lfsconfig; then
              echo "LFS-online-to-the-agents-server" >> {canary}
            fi
            [ -n "${TOKEN_ENV}" ] && echo "LFS-saw-the-token" >> {canary}
            cat ;;
          clean)
            [ -n "${TOKEN_ENV}" ] && echo "LFS-saw-the-token" >> {canary}
            cat ;;
        esac
        exit 0
        """)
    )
    path.chmod(0o755)


def _hooks(directory: Path, tag: str, payload: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for hook in HOOKS:
        (directory / hook).write_text(f"#!/bin/sh\n{payload} {tag}-{hook}\n")
        (directory / hook).chmod(0o755)


def _hostile_user_config(user: Path, payload: Path, included: Path) -> None:
    """The user's own drivers (which the agent's attributes can name), and includes of a
    file inside the agent's worktree: everything in it is the agent's."""
    p = payload
    config = f"""\
[core]
\tfsmonitor = {p} USER-fsmonitor
\tpager = {p} USER-pager
\tsshCommand = {p} USER-ssh
\taskPass = {p} USER-askpass
[filter "ufilt"]
\tclean = {p} USER-filter-clean
\tsmudge = {p} USER-filter-smudge
\tprocess = {p} USER-filter-process
[filter "lfs"]
\tclean = git-lfs clean -- %f
\tsmudge = git-lfs smudge -- %f
\trequired = true
[diff "udiff"]
\ttextconv = {p} USER-textconv
\tcommand = {p} USER-diff-command
[diff]
\texternal = {p} USER-diff-external
[merge "umerge"]
\tdriver = {p} USER-merge-driver %A
[pager]
\tdiff = {p} USER-pager-diff
\tlog = {p} USER-pager-log
[credential]
\thelper = {p} USER-credential-helper
[include]
\tpath = {included}
[includeIf "gitdir:{user}/.git/worktrees/"]
\tpath = {included}.if
"""
    with open(user / ".git" / "config", "a") as handle:
        handle.write(config)
    _hooks(user / ".git" / "hooks", "USERHOOK", payload)


NESTED_CONFIG = """\
[core]
\tfsmonitor = {p} {t}-fsmonitor
\tpager = {p} {t}-pager
\thooksPath = hooks
[filter "x"]
\tclean = {p} {t}-filter-clean
\tsmudge = {p} {t}-filter-smudge
[diff "x"]
\ttextconv = {p} {t}-textconv
[merge "x"]
\tdriver = {p} {t}-merge %A
"""
INCLUDED = """\
[core]
\tfsmonitor = {p} INCLUDED-fsmonitor
\thooksPath = {hooks}
[filter "inc"]
\tclean = {p} INCLUDED-filter-clean
\tsmudge = {p} INCLUDED-filter-smudge
[diff "inc"]
\ttextconv = {p} INCLUDED-textconv
[merge "inc"]
\tdriver = {p} INCLUDED-merge %A
[commit]
\tgpgSign = true
[gpg]
\tprogram = {gpg}
[hook "evil"]
\tcommand = {p} INCLUDED-config-hook
\tevent = pre-commit
"""


def agent_writes(lab: Lab, tree: Path, *, honest: str = "honest.txt") -> None:
    """What a hostile session leaves in its worktree, beside an honest edit."""
    p = lab.payload
    (tree / honest).write_text("honest work\n")
    (tree / ".gitattributes").write_text(
        "*.bin filter=lfs\n*.u filter=ufilt diff=udiff merge=umerge\n"
        "*.inc filter=inc diff=inc merge=inc\n"
    )
    (tree / "data.u").write_text(_lines("u").replace("line 2\n", "line 2 agent\n"))
    (tree / "w.inc").write_text("included driver\n")
    (tree / ".lfsconfig").write_text("[lfs]\n\turl = http://127.0.0.1:9/exfil\n")
    (tree / "asset.bin").write_text("v2 agent\n")
    for name, tag, separate in (("sub", "NESTDIR", None), ("sub2", "NESTFILE", ".evilgd")):
        _nested(tree / name, tag, p, tree / separate if separate else None)
    (tree / "empty").mkdir()
    subprocess.run(["git", "init", "-q", str(tree / "empty")], check=True, capture_output=True)
    evil = tree / "lib" / "evil"
    for name, text in (
        ("HEAD", "ref: refs/heads/main\n"),
        ("config", f"[core]\n\tbare = true\n\tpager = {p} COPY-pager\n\tfsmonitor = {p} COPY\n"),
        ("objects/ab/cdef", "x"),
        ("refs/heads/main", "0" * 40 + "\n"),
    ):
        (evil / name).parent.mkdir(parents=True, exist_ok=True)
        (evil / name).write_text(text)
    agent_hooks = tree / "agent-hooks"
    _hooks(agent_hooks, "AGENTHOOK", p)
    for name in (".agent.gitconfig", ".agent.gitconfig.if"):
        (tree / name).write_text(INCLUDED.format(p=p, hooks=agent_hooks, gpg=lab.gpg))
    for path in tree.rglob("*"):
        if ".git" not in path.parts and path.is_file():
            os.utime(path, (OLD, OLD))


def _nested(path: Path, tag: str, payload: Path, separate: Path | None) -> None:
    """A repository the agent made inside its worktree, with a commit and an old mtime."""
    path.mkdir(parents=True)
    args = ["git", "init", "-q", *([f"--separate-git-dir={separate}"] if separate else []), "."]
    subprocess.run(args, cwd=path, check=True, capture_output=True)
    git_dir = separate or path / ".git"
    (git_dir / "config").write_text(
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n"
        + NESTED_CONFIG.format(p=payload, t=tag)
    )
    _hooks(git_dir / "hooks", f"{tag}HOOK", payload)
    _hooks(path / "hooks", f"{tag}TREEHOOK", payload)
    (path / ".gitattributes").write_text("* filter=x diff=x merge=x\n")
    (path / "f.txt").write_text("nested\n")
    quiet = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c",
             "filter.x.clean=", "-c", "user.name=a", "-c", "user.email=a@a"]  # fmt: skip
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    for step in (["add", "-A"], ["commit", "-qm", "nested"]):
        subprocess.run(["git", *quiet, *step], cwd=path, env=env, check=True, capture_output=True)
