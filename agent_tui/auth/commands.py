"""``agent-tui profiles …``: manage the profile store from the command line.

Everything printed goes through :func:`redact`, so a token can never reach the terminal even
if one slips into a message.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, TextIO

from agent_tui.auth.credentials import Resolution, format_time, redact, resolve
from agent_tui.auth.keychain import KeychainUnavailable, read_entry, service_name

if TYPE_CHECKING:
    from agent_tui.auth.profiles import Profile, ProfileStore

EXIT_BAD_INPUT = 2
DEFAULT_DIR_LABEL = "(default ~/.claude)"

_CONFIG_DIR_HELP = (
    "the account's Claude config dir, as used with CLAUDE_CONFIG_DIR=DIR claude. A leading "
    "~ is expanded and a relative path made absolute here, once; the stored string is then "
    "passed to Claude Code verbatim and names the keychain entry, so write it as you did when "
    "logging in (a trailing slash names a different entry). Omit it for the default login "
    "(~/.claude)."
)


def add_profiles_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``profiles`` and its actions; the action lands in ``args.profiles_command``."""
    profiles = subparsers.add_parser(
        "profiles",
        help="manage auth profiles (one Claude account each)",
        description="A profile is one Claude account: a Claude config dir (CLAUDE_CONFIG_DIR) "
        "and, optionally, an environment variable holding a token. Its credential is found "
        "as Claude Code stores it: that variable, then the OS keychain entry Claude Code names "
        "after the config dir, then <config dir>/.credentials.json. No token is ever stored "
        "by agent-tui.",
    )
    actions = profiles.add_subparsers(dest="profiles_command", metavar="{list,add,remove,use,show}")
    actions.add_parser(
        "list",
        help="list profiles: active mark, name, config dir, credential status",
        description="One line per profile; * marks the active one.",
    )
    add = actions.add_parser(
        "add",
        help="add a profile (the first one added becomes active)",
        description="Add a profile. The config dir may not exist yet: log in later with "
        "`CLAUDE_CONFIG_DIR=DIR claude`.",
    )
    add.add_argument("name", help="1-40 letters, digits, '.', '_' or '-'")
    add.add_argument("--config-dir", metavar="DIR", help=_CONFIG_DIR_HELP)
    add.add_argument(
        "--token-env",
        metavar="VAR",
        help="name of an environment variable holding this account's OAuth token "
        "(from `claude setup-token`) or API key; it is read at run time, never stored",
    )
    remove = actions.add_parser(
        "remove",
        help="remove a profile",
        description="Forget a profile. Its config dir and keychain entry are left alone.",
    )
    remove.add_argument("name")
    use = actions.add_parser(
        "use",
        help="make a profile the active one",
        description="Make NAME the profile runs start with (--profile overrides it).",
    )
    use.add_argument("name")
    show = actions.add_parser(
        "show",
        help="show where a profile's credential comes from",
        description="Print the keychain service and account, the credential's source, masked "
        "token and expiry, and each resolution step. Exits 2 when the profile is not usable.",
    )
    show.add_argument("name")
    return profiles


def run_profiles(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run one ``profiles`` action; 0 on success, 2 with one line on ``err`` on bad input."""
    # Here, not at the top: the parser above is built on every start, and these load pydantic.
    from agent_tui.auth.profiles import ProfileStore
    from agent_tui.config import ConfigError

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        store = ProfileStore.load()
        command = args.profiles_command
        if command in (None, "list"):
            return _list(store, out)
        if command == "add":
            return _add(store, args, out, err)
        if command == "remove":
            store.remove(args.name)
            store.save()
            _say(out, f"removed profile {args.name!r}")
            return 0
        if command == "use":
            store.use(args.name)
            store.save()
            _say(out, f"active profile: {args.name}")
            return 0
        return _show(store, args.name, out)
    except ConfigError as exc:
        _say(err, f"agent-tui: {exc}")
        return EXIT_BAD_INPUT


def _say(stream: TextIO, line: str) -> None:
    print(redact(line), file=stream)


def expand_config_dir(value: str) -> str:
    """Expand ``~`` and absolutise a relative path, once; an absolute path is kept as typed."""
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded):
        return expanded
    trailing = os.sep if expanded.endswith(os.sep) else ""
    return os.path.abspath(expanded) + trailing


def _status(resolution: Resolution) -> str:
    if resolution.usable:
        return resolution.summary
    return f"not usable: {resolution.summary or resolution.problem}"


def _list(store: ProfileStore, out: TextIO) -> int:
    names = store.names()
    if not names:
        _say(out, "no profiles yet: agent-tui profiles add NAME --config-dir DIR")
        return 0
    active = store.active_profile()
    profiles = [store.get(name) for name in names]
    name_width = max(len(name) for name in names)
    dirs = [profile.config_dir or DEFAULT_DIR_LABEL for profile in profiles]
    dir_width = max(len(directory) for directory in dirs)
    for profile, directory in zip(profiles, dirs, strict=True):
        mark = "*" if active is not None and active.name == profile.name else " "
        status = _status(resolve(profile))
        _say(out, f"{mark} {profile.name:<{name_width}}  {directory:<{dir_width}}  {status}")
    return 0


def _add(store: ProfileStore, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config_dir = expand_config_dir(args.config_dir) if args.config_dir else None
    profile = store.add(args.name, config_dir=config_dir, token_env=args.token_env)
    store.save()
    _say(out, f"added profile {profile.name!r} ({config_dir or DEFAULT_DIR_LABEL})")
    if config_dir and not os.path.isdir(config_dir):
        _say(
            err,
            f"warning: {config_dir} does not exist yet; log in with "
            f"`CLAUDE_CONFIG_DIR={config_dir} claude` before running with this profile",
        )
    resolution = resolve(profile)
    _say(out, f"credentials: {_status(resolution)}")
    if not resolution.usable and config_dir:
        hint = _slash_variant_hint(config_dir, resolution.account)
        if hint:
            _say(err, hint)
    return 0


def _slash_variant_hint(config_dir: str, account: str) -> str | None:
    """Claude Code hashes the exact string: point out a login made with(out) a trailing slash."""
    variant = config_dir.rstrip("/") if config_dir.endswith("/") else config_dir + "/"
    try:
        found = read_entry(service_name(variant), account) is not None
    except KeychainUnavailable:
        return None
    if not found:
        return None
    return (
        f"hint: the keychain has an entry for {variant!r}, not {config_dir!r}; remove this "
        f"profile and add it again with --config-dir {variant!r}"
    )


def _show(store: ProfileStore, name: str, out: TextIO) -> int:
    profile = store.get(name)
    resolution = resolve(profile)
    active = store.active_profile()
    for label, value in _show_fields(profile, resolution, active):
        _say(out, f"{label + ':':<13}{value}")
    _say(out, "steps:")
    for number, step in enumerate(resolution.steps, start=1):
        _say(out, f"  {number}. {step}")
    if resolution.notices:
        _say(out, "notices:")
        for notice in resolution.notices:
            _say(out, f"  - {notice}")
    return 0 if resolution.usable else EXIT_BAD_INPUT


def _show_fields(
    profile: Profile, resolution: Resolution, active: Profile | None
) -> list[tuple[str, str]]:
    credential = resolution.credential
    is_active = active is not None and active.name == profile.name
    fields = [
        ("profile", f"{profile.name}{' (active)' if is_active else ''}"),
        ("config dir", profile.config_dir or DEFAULT_DIR_LABEL),
        ("token env", profile.token_env or "-"),
        ("service", resolution.service),
        ("account", resolution.account),
        ("source", f"{credential.source} ({credential.location})" if credential else "none"),
        ("token", credential.masked if credential else "-"),
        (
            "expires",
            format_time(credential.expires_at) if credential and credential.expires_at else "-",
        ),
        ("plan", credential.subscription if credential and credential.subscription else "-"),
        ("status", "usable" if resolution.usable else f"not usable: {resolution.problem}"),
    ]
    if profile.description:
        fields.insert(1, ("description", profile.description))
    return fields
