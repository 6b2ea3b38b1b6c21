"""The ``profiles`` subcommand's arguments.

Apart from the commands themselves: this parser is built on every start, ``agent-tui run``
included, and must not load what the commands need (credentials, the keychain, pydantic).
"""

from __future__ import annotations

import argparse

from agent_tui.cli.args import dollars, given, positive_int

_CONFIG_DIR_HELP = (
    "the account's Claude config dir (CLAUDE_CONFIG_DIR), e.g. ~/.claude-work. A leading "
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
    actions = profiles.add_subparsers(
        dest="profiles_command", metavar="{list,add,login,remove,use,show,budget}"
    )
    actions.add_parser(
        "list",
        help="list profiles: active mark, name, config dir, credential status",
        description="One line per profile; * marks the active one.",
    )
    _add_add_parser(actions)
    login = actions.add_parser(
        "login",
        help="log a profile's account in, with the bundled Claude Code CLI's own login",
        description="Run the Claude Code CLI's login (bundled with agent-tui; no `claude` on "
        "PATH needed) for the profile's config dir, in this terminal, then check the "
        "credential as a session will. Exit 0 when it is usable, 3 when the login did not "
        "finish or left none.",
    )
    login.add_argument("name", type=given)
    login.add_argument(
        "--setup-token",
        action="store_true",
        help="instead, have the CLI print a long-lived token (`claude setup-token`, needs a "
        "Claude subscription) to export as the profile's --token-env variable",
    )
    remove = actions.add_parser(
        "remove",
        help="remove a profile",
        description="Forget a profile. Its config dir and keychain entry are left alone.",
    )
    remove.add_argument("name", type=given)
    use = actions.add_parser(
        "use",
        help="make a profile the active one",
        description="Make NAME the profile runs start with (--profile overrides it).",
    )
    use.add_argument("name", type=given)
    show = actions.add_parser(
        "show",
        help="show where a profile's credential comes from",
        description="Print the keychain service and account, the credential's source, masked "
        "token and expiry, and each resolution step. Exits 2 when the profile is not usable.",
    )
    show.add_argument("name", type=given)
    _add_budget_parser(actions)
    return profiles


def _add_add_parser(actions: argparse._SubParsersAction) -> None:
    add = actions.add_parser(
        "add",
        help="add a profile (the first one added becomes active)",
        description="Add a profile. The config dir may not exist yet. In a terminal, a "
        "profile with no credential is offered a login at once (agent-tui profiles login NAME "
        "does the same later).",
    )
    add.add_argument("name", type=given, help="1-40 ASCII letters, digits, '.', '_' or '-'")
    add.add_argument("--config-dir", type=given, metavar="DIR", help=_CONFIG_DIR_HELP)
    add.add_argument(
        "--token-env",
        type=given,
        metavar="VAR",
        help="name of an environment variable holding this account's OAuth token "
        "(from `claude setup-token`) or API key; it is read at run time, never stored",
    )
    _budget_options(add)


def _add_budget_parser(actions: argparse._SubParsersAction) -> None:
    budget = actions.add_parser(
        "budget",
        help="set what a profile's account may spend per month",
        description="Set NAME's monthly budget in US dollars (none: the monthly_budget_usd "
        "setting's), e.g. its plan's Agent SDK credit. Once its sessions have spent it this "
        "month no session starts on it: with auto_switch the next profile takes over.",
    )
    budget.add_argument("name", type=given)
    budget.add_argument("usd", metavar="USD", help="dollars per month, or none")
    budget.add_argument(
        "--billing-day",
        type=_day,
        metavar="N",
        help="the day of the month its budget starts again (default: the billing_day "
        "setting's, else the 1st)",
    )


def _budget_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--monthly-budget",
        type=dollars,
        metavar="USD",
        help="what this account may spend per month (see: profiles budget)",
    )
    parser.add_argument(
        "--billing-day", type=_day, metavar="N", help="the day of the month its budget restarts"
    )


def _day(text: str) -> int:
    day = positive_int(text)
    if day > 31:
        raise argparse.ArgumentTypeError("must be a day of the month, 1 to 31")
    return day
