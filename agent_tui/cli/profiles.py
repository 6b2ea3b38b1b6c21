"""``agent-tui profiles …``: manage the profile store from the command line.

Everything printed goes through :func:`redact`, so a token can never reach the terminal even
if one slips into a message.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from agent_tui.auth.credentials import Resolution, format_time, resolve
from agent_tui.auth.keychain import KeychainUnavailable, read_entry, service_name
from agent_tui.auth.redaction import redact
from agent_tui.exit_codes import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_STOPPED_SHORT

if TYPE_CHECKING:
    from agent_tui.auth.profiles import Profile, ProfileStore

DEFAULT_DIR_LABEL = "(default ~/.claude)"


Ask = Callable[[str], str]
"""Puts a question to the user and returns the answer (``input``)."""


def run_profiles(
    args: argparse.Namespace,
    out: TextIO | None = None,
    err: TextIO | None = None,
    ask: Ask | None = None,
) -> int:
    """Run one ``profiles`` action; 0 on success, 2 with one line on ``err`` on bad input.

    ``ask`` offers a new profile with no credential a login; by default ``input`` when
    stdin is a terminal, and nothing is asked otherwise (a script or CI never waits)."""
    from agent_tui.auth.profiles import ProfileStore  # loads pydantic
    from agent_tui.config import ConfigError

    out = out or sys.stdout
    err = err or sys.stderr
    if ask is None and sys.stdin.isatty():
        ask = input
    try:
        store = ProfileStore.load()
        command = args.profiles_command
        if command in (None, "list"):
            return _list(store, out)
        if command == "add":
            return _add(store, args, out, err, ask)
        if command == "login":
            return _login(store.get(args.name), args.setup_token, out, err)
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
        if command == "budget":
            return _budget(store, args, out)
        return _show(store, args.name, out, err)
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
    usage = _usage()
    month = _month(store)
    for profile, directory in zip(profiles, dirs, strict=True):
        mark = "*" if active is not None and active.name == profile.name else " "
        status = _status(resolve(profile))
        line = f"{mark} {profile.name:<{name_width}}  {directory:<{dir_width}}  {status}"
        _say(out, f"{line}  ({usage(profile.name)}; {month(profile.name)})")
    return 0


def _month(store: ProfileStore) -> Callable[[str], str]:
    """A profile's spend this month (or billing cycle) from the ledger, with its budget."""
    from agent_tui.config import spend_dir
    from agent_tui.engine.accounts.budget import profile_budgets
    from agent_tui.engine.accounts.ledger import Ledger
    from agent_tui.engine.accounts.period import period_of
    from agent_tui.engine.events.money import money

    ledger, now = Ledger.load(spend_dir()), time.time()
    settings = store.settings
    budget_of = profile_budgets(store, settings.monthly_budget_usd, settings.billing_day)

    def month(name: str) -> str:
        budget = budget_of(name)
        period = period_of(now, budget.billing_day)
        spent = ledger.spent(profile=name, between=(period.start, period.end))
        if budget.monthly_usd is None:
            return f"{period.label}: {money(spent)} spent"
        return f"{period.label}: {money(spent)} of {money(budget.monthly_usd)}"

    return month


def _budget(store: ProfileStore, args: argparse.Namespace, out: TextIO) -> int:
    from agent_tui.config import ConfigError

    text = args.usd.strip().removeprefix("$").lower()
    try:
        usd = None if text in ("none", "") else float(text)
    except ValueError:
        raise ConfigError(f"{args.usd!r} is not an amount of dollars, nor none") from None
    profile = store.set_budget(args.name, usd, args.billing_day)
    store.save()
    if profile.monthly_budget_usd is None:
        _say(out, f"profile {profile.name!r}: no monthly budget of its own (the setting's)")
    else:
        day = f", from day {profile.billing_day}" if profile.billing_day else ""
        _say(out, f"profile {profile.name!r}: ${profile.monthly_budget_usd:g} a month{day}")
    return 0


def _usage() -> Callable[[str], str]:
    """A profile's usage window in a few words, as the last run that saw it kept it."""
    from agent_tui.config import quota_path
    from agent_tui.engine.accounts.quota_book import QuotaBook
    from agent_tui.engine.events.quota import quota_text

    book, now = QuotaBook.load(quota_path()), time.time()
    return lambda name: quota_text(book.get(name), now)


def _add(
    store: ProfileStore, args: argparse.Namespace, out: TextIO, err: TextIO, ask: Ask | None
) -> int:
    config_dir = _config_dir_to_add(args.config_dir)
    sharing = _sharing_config_dir(store, config_dir, args.token_env)
    profile = store.add(args.name, config_dir=config_dir, token_env=args.token_env)
    if args.monthly_budget is not None or args.billing_day is not None:
        profile = store.set_budget(profile.name, args.monthly_budget, args.billing_day)
    store.save()
    if sharing:
        _say(
            err,
            f"warning: profile {sharing[0]!r} has the same config dir: both are one account, "
            "so switching between them changes nothing",
        )
    where = f"({config_dir})" if config_dir else DEFAULT_DIR_LABEL
    _say(out, f"added profile {profile.name!r} {where}")
    active = store.active_profile()
    if active is not None and active.name == profile.name:
        # Runs start with it from now on, not with the default login: say so.
        _say(out, f"active profile: {profile.name} (none was; change with profiles use)")
    if _report_credentials(profile, out, err).usable or ask is None:
        return 0
    is_active = active is not None and active.name == profile.name
    return _offer_login(profile, out, err, ask, is_active)


def _offer_login(profile: Profile, out: TextIO, err: TextIO, ask: Ask, active: bool) -> int:
    """Ask whether to log the new profile in now; a no leaves the command to run later.  A
    login that does not finish leaves the profile added all the same: said, with what to do."""
    name = profile.name
    try:
        answer = ask(f"Log in to the account of profile {name!r} now? [Y/n] ")
    except EOFError:
        answer = "n"
    if answer.strip().lower() not in ("", "y", "yes"):
        _say(out, f"log in later with: agent-tui profiles login {name}")
        return 0
    code = _login(profile, False, out, err)
    if code != 0:
        runs = ", and runs use it until you log in or switch" if active else ""
        _say(
            err,
            f"profile {name!r} stays added{', and active' if active else ''}{runs}: "
            f"agent-tui profiles login {name}, or agent-tui profiles remove {name}",
        )
    return code


def _login(profile: Profile, setup_token: bool, out: TextIO, err: TextIO) -> int:
    """The CLI's own login for the profile, in this terminal; then its credential checked
    as a session will find it (0: usable; 3: the login did not finish, or left none)."""
    from agent_tui.auth.login import run_login
    from agent_tui.config import ConfigError
    from agent_tui.engine.agents.claude.process import find_cli

    name = profile.name
    if setup_token and not profile.token_env:
        raise ConfigError(
            f"profile {name!r} has no --token-env: the token setup-token prints is read from "
            "an environment variable at run time; add the profile again with --token-env VAR"
        )
    cli = find_cli()
    if cli is None:
        raise ConfigError(
            "the Claude Code CLI was not found: reinstall claude-agent-sdk (it bundles the CLI)"
        )
    where = profile.config_dir or DEFAULT_DIR_LABEL
    how = "prints a long-lived token" if setup_token else "signs you in with your browser"
    _say(out, f"logging in profile {name!r} ({where}): the Claude Code CLI {how}")
    out.flush()
    try:
        code = run_login(cli, profile, setup_token=setup_token, environ=os.environ)
    except OSError as exc:
        raise ConfigError(f"cannot run the login ({exc.strerror or exc}): {cli}") from None
    if code != 0:
        if err.isatty():
            err.write("\n")  # the CLI may leave the cursor after its own prompt
        if code in (EXIT_INTERRUPTED, -signal.SIGINT):
            _say(err, "agent-tui: the login was interrupted: nothing changed")
            return EXIT_INTERRUPTED
        how = f"was stopped by signal {-code}" if code < 0 else f"exited {code}"
        _say(err, f"agent-tui: the login did not finish (the CLI {how}): nothing changed")
        return EXIT_STOPPED_SHORT
    if setup_token:
        _say(
            out,
            f"next: export {profile.token_env}=<the token printed above> before a run "
            f"(agent-tui reads it then and never stores it); agent-tui profiles show {name} "
            "checks it",
        )
        return 0
    resolution = resolve(profile)
    if not resolution.usable:
        _say(err, f"agent-tui: the login left no usable credential: {resolution.refusal}")
        return EXIT_STOPPED_SHORT
    _say(out, f"logged in: profile {name!r} has a usable credential ({resolution.summary})")
    return 0


def _config_dir_to_add(given: str | None) -> str | None:
    """``--config-dir`` expanded; a file there is an error (a missing dir is not: see
    :func:`_report_credentials`)."""
    from agent_tui.config import ConfigError

    config_dir = expand_config_dir(given) if given else None
    if config_dir and os.path.exists(config_dir) and not os.path.isdir(config_dir):
        raise ConfigError(
            f"{config_dir} is not a directory: --config-dir takes a Claude config dir"
        )
    return config_dir


def _sharing_config_dir(
    store: ProfileStore, config_dir: str | None, token_env: str | None
) -> list[str]:
    """The profiles that would be the same account as a new one (one config dir, no token)."""
    return [
        other.name
        for other in (store.get(name) for name in store.names())
        if other.config_dir == config_dir and not (other.token_env or token_env)
    ]


def _report_credentials(profile: Profile, out: TextIO, err: TextIO) -> Resolution:
    """Where a new profile's credentials stand, with what to do when it has none yet."""
    config_dir = profile.config_dir
    if config_dir and not os.path.isdir(config_dir):
        _say(
            err,
            f"warning: {config_dir} does not exist yet; `agent-tui profiles login "
            f"{profile.name}` makes it and logs in",
        )
    resolution = resolve(profile)
    _say(out, f"credentials: {_status(resolution)}")
    if not resolution.usable and config_dir:
        hint = _slash_variant_hint(config_dir, resolution.account)
        if hint:
            _say(err, hint)
    return resolution


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


def _show(store: ProfileStore, name: str, out: TextIO, err: TextIO) -> int:
    profile = store.get(name)
    resolution = resolve(profile)
    active = store.active_profile()
    for label, value in _show_fields(store, profile, resolution, active):
        _say(out, f"{label + ':':<13}{value}")
    _say(out, "steps:")
    for number, step in enumerate(resolution.steps, start=1):
        _say(out, f"  {number}. {step}")
    if resolution.notices:
        _say(out, "notices:")
        for notice in resolution.notices:
            _say(out, f"  - {notice}")
    if resolution.usable:
        return 0
    _say(err, f"agent-tui: {resolution.refusal}")
    return EXIT_BAD_INPUT


def _show_fields(
    store: ProfileStore, profile: Profile, resolution: Resolution, active: Profile | None
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
        ("usage", _usage()(profile.name)),
        ("spend", _month(store)(profile.name)),
    ]
    if profile.description:
        fields.insert(1, ("description", profile.description))
    return fields
