"""``agent-tui profiles …``: manage the profile store from the command line."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from agent_tui.auth.credentials import resolve
from agent_tui.auth.profiles import ProfileStore
from agent_tui.config import ConfigError

EXIT_BAD_INPUT = 2


def add_profiles_parser(subparsers: argparse._SubParsersAction) -> None:
    profiles = subparsers.add_parser(
        "profiles",
        help="manage auth profiles (Claude config dirs)",
        description="A profile is a Claude config dir (CLAUDE_CONFIG_DIR). Its credentials are "
        "found the way Claude Code stores them: an env var you name, the OS keychain under "
        "Claude Code's hashed service name, then <config dir>/.credentials.json.",
    )
    actions = profiles.add_subparsers(dest="profiles_command", metavar="{list,add,remove,use,show}")
    actions.add_parser("list", help="list profiles, the active one marked with *")
    add = actions.add_parser("add", help="add a profile")
    add.add_argument("name", help="1-40 letters, digits, '.', '_' or '-'")
    add.add_argument(
        "--config-dir",
        required=True,
        metavar="DIR",
        help="the profile's Claude config dir; '~' is expanded once here and the absolute "
        "path is stored and passed to Claude Code verbatim from then on",
    )
    add.add_argument("--token-env", metavar="VAR", help="env var holding this profile's token")
    remove = actions.add_parser("remove", help="remove a profile")
    remove.add_argument("name")
    use = actions.add_parser("use", help="make a profile the active one")
    use.add_argument("name")
    show = actions.add_parser("show", help="show where a profile's credentials come from")
    show.add_argument("name")


def run_profiles(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        store = ProfileStore.load()
        command = args.profiles_command
        if command in (None, "list"):
            return _list(store, out)
        if command == "add":
            return _add(store, args, out)
        if command == "remove":
            store.remove(args.name)
            store.save()
            print(f"removed profile {args.name!r}", file=out)
            return 0
        if command == "use":
            store.use(args.name)
            store.save()
            print(f"active profile: {args.name}", file=out)
            return 0
        return _show(store, args.name, out)
    except ConfigError as exc:
        print(f"agent-tui: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _list(store: ProfileStore, out: TextIO) -> int:
    if not store.names():
        print("no profiles yet: agent-tui profiles add NAME --config-dir DIR", file=out)
        return 0
    active = store.active_profile()
    for name in store.names():
        profile = store.get(name)
        resolution = resolve(profile)
        if resolution.usable and resolution.credential:
            status = f"ok ({resolution.credential.source})"
        else:
            status = "not usable"
        mark = "*" if active and active.name == name else " "
        print(f"{mark} {name:<16} {profile.config_dir or '~/.claude'}  {status}", file=out)
    return 0


def _add(store: ProfileStore, args: argparse.Namespace, out: TextIO) -> int:
    config_dir = os.path.abspath(os.path.expanduser(args.config_dir))
    store.add(args.name, config_dir=config_dir, token_env=args.token_env)
    store.save()
    print(f"added profile {args.name!r} ({config_dir})", file=out)
    if not os.path.isdir(config_dir):
        print(
            f"warning: {config_dir} does not exist yet; log in with "
            f"`CLAUDE_CONFIG_DIR={config_dir} claude` to create it",
            file=sys.stderr,
        )
    return 0


def _show(store: ProfileStore, name: str, out: TextIO) -> int:
    try:
        profile = store.get(name)
    except KeyError:
        raise ConfigError(f"no profile named {name!r} (see: agent-tui profiles list)") from None
    resolution = resolve(profile)
    credential = resolution.credential
    print(f"profile:     {profile.name}", file=out)
    print(f"config dir:  {profile.config_dir or '(default ~/.claude)'}", file=out)
    print(f"service:     {resolution.service}", file=out)
    print(f"account:     {resolution.account}", file=out)
    print(f"source:      {credential.source if credential else 'none'}", file=out)
    print(f"token:       {credential.masked if credential else '-'}", file=out)
    expiry = credential.expires_at if credential else None
    print(f"expires:     {f'{expiry:%Y-%m-%d %H:%M} UTC' if expiry else '-'}", file=out)
    if resolution.problem:
        print(f"problem:     {resolution.problem}", file=out)
    print("resolution:", file=out)
    for step in resolution.steps + resolution.notices:
        print(f"  - {step}", file=out)
    return 0 if resolution.usable else EXIT_BAD_INPUT
