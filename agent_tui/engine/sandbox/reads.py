"""What a session may read: its own work, the system, and of the user's home only the
toolchains a build needs.

Claude Code says it in three parts, and each binds different tools:

- ``permissions.blockReadsOutsideWorkingDirectories``: Read, Grep and Glob read only in
  the working directory (the project, or its place in the worktree) and in
  ``blockReadsExemptPaths``; with the sandbox on it also hides the home roots (``~``,
  ``/home``, ``/root``, …) from Bash, but nothing else (``/tmp`` stays open).
- ``sandbox.filesystem.denyRead`` / ``allowRead``: what Bash and its children cannot read,
  and what is re-opened inside that (``allowRead`` wins over ``denyRead``).
- ``Read(//path)`` deny rules: the file tools, Bash commands that name the path, and the
  sandbox's mounts alike; nothing re-opens inside one (an allow rule never beats a deny),
  so they name credential stores only, never a region that holds the work.

So the home dirs, agent-tui's own dirs (every other worktree), the user's checkout beside
the worktree and the temp dirs are hidden regions with the work and the toolchains
re-opened in them; the credential stores are deny rules, which also bind a session that
runs unsandboxed (containment off), where the regions cannot be hidden from Bash.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

HOME_SECRETS = (
    # Claude Code and other AI tools
    ".claude", ".claude.json", ".codex", ".gemini", ".config/github-copilot",
    ".config/Claude", "Library/Application Support/Claude",
    # shell, keys, keyrings, password managers
    ".ssh", ".gnupg", ".password-store", ".local/share/keyrings", ".local/share/kwalletd",
    ".local/share/python_keyring", ".pki", "Library/Keychains", ".config/op", ".op",
    ".config/Bitwarden CLI", ".config/sops", ".config/age",
    ".bash_history", ".zsh_history", ".python_history", ".psql_history", ".mysql_history",
    ".node_repl_history", ".local/share/fish/fish_history", ".local/share/atuin",
    # git and code hosts
    ".netrc", ".git-credentials", ".gitconfig", ".config/git", ".config/gh", ".config/hub",
    ".config/glab-cli", ".config/tea",
    # clouds and deploy tools
    ".aws", ".azure", ".config/gcloud", ".config/doctl", ".config/hcloud", ".oci",
    ".ibmcloud", ".bluemix", ".config/linode-cli", ".config/scw", ".fly", ".config/flyctl",
    ".config/netlify", ".local/share/com.vercel.cli", ".config/heroku", ".railway",
    ".supabase", ".wrangler", ".config/.wrangler", ".config/stripe", ".config/ngrok",
    ".ngrok2", ".terraform.d", ".terraformrc", ".vault-token", ".config/configstore",
    ".docker", ".kube", ".config/helm", ".minikube", ".s3cfg", ".passwd-s3fs", ".boto",
    ".config/rclone", ".circleci", ".sentryclirc", ".jira.d",
    # databases
    ".pgpass", ".my.cnf", ".mylogin.cnf",
    # package registries
    ".npmrc", ".yarnrc", ".yarnrc.yml", ".pypirc", ".config/pip", ".pip",
    ".config/pypoetry", ".condarc", ".cargo/credentials", ".cargo/credentials.toml",
    ".gem/credentials", ".bundle/config", ".m2/settings.xml", ".m2/settings-security.xml",
    ".gradle/gradle.properties", ".ivy2/.credentials", ".sbt/.credentials",
    ".composer/auth.json", ".config/composer/auth.json", ".nuget/NuGet",
    ".pub-cache/credentials.json", ".config/dart", ".cache/huggingface/token",
    ".huggingface", ".kaggle",
    # browsers and mail
    ".mozilla", ".config/google-chrome", ".config/chromium", ".thunderbird",
)  # fmt: skip
"""Well-known credential files and dirs under a home: a deny rule each, whatever else is
open (containment off, a toolchain path the user re-opened)."""

SYSTEM_SECRETS = ("/proc", "/etc/shadow", "/etc/gshadow", "/run/secrets", "/var/run/secrets")
"""The processes' environments, the password hashes, and container secrets."""

TOOLCHAINS = (
    ".pyenv", ".local/bin", ".local/lib", ".local/share/uv", ".local/share/pnpm",
    ".local/share/mise", ".local/share/fnm", ".rbenv", ".nvm", ".volta", ".bun/bin",
    ".bun/install/cache", ".deno", ".cargo/bin", ".cargo/registry", ".cargo/git", ".rustup",
    "go/bin", "go/pkg/mod", ".m2/repository", ".gradle/caches", ".gradle/wrapper",
    ".sdkman", ".asdf", ".gem/ruby", ".gem/specs", ".npm/_cacache", ".nuget/packages",
    ".dotnet", ".ghcup", ".cabal/packages", ".cabal/store", ".stack/programs",
    ".stack/snapshots", ".julia/packages", ".julia/artifacts", ".elan", ".opam",
    ".pub-cache/hosted", ".pub-cache/bin", ".conda/pkgs", ".conda/envs", "miniconda3",
    "miniforge3", "anaconda3", ".nix-profile",
    ".cache/pip", ".cache/uv", ".cache/pypoetry", ".cache/pdm", ".cache/hatch",
    ".cache/pre-commit", ".cache/go-build", ".cache/bazel", ".cache/yarn", ".cache/pnpm",
    ".cache/node-gyp", ".cache/ms-playwright", ".cache/sccache", ".cache/ccache",
    ".cache/deno", ".cache/coursier", ".cache/zig", ".cache/huggingface/hub", ".cache/torch",
)  # fmt: skip
"""What of a home a build reads: interpreters and compilers installed there, and package
caches.  Never a parent of a credential (``~/.cargo/bin``, not ``~/.cargo``, which holds
``credentials.toml``); only those that exist are re-opened."""


@dataclass(frozen=True)
class Workplace:
    """Where a session works, and the places around it that are not its own."""

    project_dir: Path
    """The working directory: the project, or its place in the worktree."""
    worktree: Path | None = None
    """The worktree's root, where git finds its ``.git`` file; None in place."""
    checkout: Path | None = None
    """The user's own checkout, which the worktree was made from; None in place."""
    git_common: Path | None = None
    """The repository's ``.git``: git in the worktree reads it (and cannot write it)."""

    @property
    def own(self) -> tuple[Path, ...]:
        """What the session reads as its own, wherever it lies."""
        places = (self.project_dir, self.worktree, self.git_common)
        return tuple(p for p in places if p is not None)


@dataclass(frozen=True)
class ReadScope:
    """A session's reads, as the CLI's settings spell them."""

    secrets: tuple[str, ...] = ()
    """Credential stores: ``Read`` deny rules."""
    hidden: tuple[str, ...] = ()
    """Regions hidden from Bash: ``sandbox.filesystem.denyRead``."""
    reopened: tuple[str, ...] = ()
    """Re-opened inside them: ``sandbox.filesystem.allowRead``."""
    toolchains: tuple[str, ...] = ()
    """The toolchain paths of the homes (re-opened too): ``blockReadsExemptPaths``, so
    the file tools read them as well."""


def read_scope(
    place: Workplace,
    *,
    homes: Iterable[str],
    secrets: Iterable[str],
    regions: Iterable[str],
    readable: Iterable[str] = (),
) -> ReadScope:
    """The scope of a session at ``place``: ``secrets`` and every home's well-known
    credential files denied; the homes and ``regions`` (agent-tui's dirs, temp roots)
    hidden, with the user's checkout; the work, the homes' toolchains and ``readable``
    (the user's own additions, ``~`` for each home) re-opened."""
    homes = sorted({home for home in homes if home.strip("/")})  # HOME=/ would hide the system
    stores = [*secrets]
    stores += [os.path.join(home, name) for home in homes for name in HOME_SECRETS]
    stores += [p for p in SYSTEM_SECRETS if sys.platform.startswith("linux") or p != "/proc"]
    hidden = [*homes, *regions, *([str(place.checkout)] if place.checkout else [])]
    tools = [os.path.join(home, name) for home in homes for name in TOOLCHAINS]
    for path in readable:
        tools += [os.path.join(home, path[2:]) for home in homes] if path[:2] == "~/" else [path]
    toolchains = existing(tools)
    return ReadScope(
        secrets=existing(stores),
        hidden=existing(hidden),
        reopened=existing(map(str, place.own)) + toolchains,
        toolchains=toolchains,
    )


def credential_store_at(path: str, homes: Iterable[str], secrets: Iterable[str] = ()) -> str | None:
    """The credential store that ``path`` (``~/…`` for each home, or absolute; a link as
    where it leads too) is, lies in or holds, or None: such a path is never ``readable``,
    as a re-opened store would be read by Bash, whatever its deny rule says."""
    homes = [home for home in homes if home.strip("/")]
    places = [os.path.join(home, path[2:]) for home in homes] if path[:2] == "~/" else [path]
    stores = [*secrets, *(os.path.join(h, name) for h in homes for name in HOME_SECRETS)]
    stores += SYSTEM_SECRETS
    for place in places:
        for form in dict.fromkeys((os.path.abspath(place), os.path.realpath(place))):
            for store in stores:
                store = os.path.abspath(store)
                if form == store or form.startswith(store + "/") or store.startswith(form + "/"):
                    return store
    return None


def existing(paths: Iterable[str]) -> tuple[str, ...]:
    """Existing paths, each also as its real path: a rule binds the path the CLI resolves.

    A missing path holds no secret, and the sandbox would plant a placeholder there."""
    found: list[str] = []
    for path in paths:
        absolute = os.path.abspath(path)
        if not os.path.lexists(absolute):
            continue
        for form in (absolute, os.path.realpath(absolute)):
            if form not in found:
                found.append(form)
    return tuple(found)
