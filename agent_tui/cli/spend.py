"""``agent-tui spend [--project DIR] [--spec SPEC] [--month]``: what the sessions cost, from
the spend ledger in the state dir.

Each spec's total over every run (with its budget), each profile's this month (or billing
cycle: with its budget and when it starts again); ``--spec`` adds the spec's runs and
subtasks, ``--month`` shows only the profiles' months and what each spec spent of them.  A
session killed before it said what it cost counts with agent-tui's estimate, and is marked.
The parser is built on every start: argparse only here.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from agent_tui.cli.args import given
from agent_tui.exit_codes import EXIT_BAD_INPUT, InputError
from agent_tui.text import counted

if TYPE_CHECKING:
    from agent_tui.auth.profiles import ProfileStore
    from agent_tui.engine.accounts.ledger import Entry, Ledger


def add_spend_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    spend = subparsers.add_parser(
        "spend",
        help="what the sessions cost: per spec over every run, per profile this month",
        description="Read the spend ledger (every session's cost, kept per profile in the state "
        "dir): each spec's total over its runs and each profile's month, with their budgets.",
    )
    spend.add_argument("--project", type=given, metavar="DIR", help="only this project's specs")
    spend.add_argument(
        "--spec",
        type=given,
        metavar="SPEC",
        help="one spec of --project (a number/name prefix or a path): its runs and subtasks",
    )
    spend.add_argument(
        "--month",
        action="store_true",
        help="only each profile's month (or billing cycle), and what each spec spent of it",
    )
    return spend


def run_spend(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """0, the figures on ``out``; 2 with one line on ``err`` for bad input."""
    from agent_tui.auth.profiles import ProfileStore
    from agent_tui.auth.redaction import redact
    from agent_tui.config import ConfigError, spend_dir
    from agent_tui.engine.accounts.ledger import Ledger

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        specs = _specs_asked(args)
        store = ProfileStore.load()
    except (InputError, ConfigError) as exc:
        print(redact(f"agent-tui: {exc}"), file=err)
        return EXIT_BAD_INPUT
    ledger = Ledger.load(spend_dir())
    lines = _month_lines(ledger, store, specs) if args.month else _lines(ledger, store, specs)
    for line in lines or ["no spend recorded yet"]:
        print(redact(line), file=out)
    if ledger.skipped:
        print(f"agent-tui: {counted(ledger.skipped, 'ledger line')} could not be read", file=err)
    return 0


def _specs_asked(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The project and the spec dir asked for, as the ledger names them (None: all)."""
    from agent_tui.plan import PlanError
    from agent_tui.plan.specs import find_spec_dir

    if args.spec and not args.project:
        raise InputError("--spec needs --project DIR (the project the spec is in)")
    if not args.project:
        return None, None
    project = Path(args.project).expanduser()
    if not project.is_dir():
        raise InputError(f"project directory {args.project!r} does not exist")
    project = project.resolve()
    if not args.spec:
        return str(project), None
    try:
        return str(project), str(find_spec_dir(project, args.spec))
    except PlanError as exc:
        raise InputError(str(exc)) from None


def _lines(ledger: Ledger, store: ProfileStore, asked: tuple[str | None, str | None]) -> list[str]:
    from agent_tui.engine.events.money import money

    project, spec = asked
    entries = _matching(ledger.sessions(), project, spec)
    by_spec: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_spec[entry.spec].append(entry)
    limit = store.settings.spec_budget_usd
    lines = []
    for spec_dir, sessions in sorted(by_spec.items()):
        total = sum(e.cost_usd for e in sessions)
        runs = len({e.run for e in sessions})
        line = f"spec {spec_dir}  {money(total)}  {counted(runs, 'run')} · "
        line += counted(len(sessions), "session") + _estimated(sessions)
        if limit is not None:
            line += f" · {money(total)} of {money(limit)} spec_budget_usd ({total / limit:.0%})"
        lines.append(line)
        if spec is not None:
            lines.extend(_breakdown(sessions))
    lines.extend(_month_lines(ledger, store, asked, per_spec=False))
    return lines


def _breakdown(sessions: list[Entry]) -> list[str]:
    """A spec's runs (first session's day and time) and its subtasks."""
    from agent_tui.engine.events.money import money

    lines = []
    runs: dict[str, list[Entry]] = defaultdict(list)
    for entry in sessions:
        runs[entry.run].append(entry)
    for run, of_run in sorted(runs.items(), key=lambda item: min(e.ts for e in item[1])):
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(min(e.ts for e in of_run)))
        profiles = ", ".join(sorted({e.profile for e in of_run}))
        cost = money(sum(e.cost_usd for e in of_run))
        count = counted(len(of_run), "session")
        lines.append(f"  run {run}  {when}  {count}  {cost}  (profiles: {profiles})")
    works: dict[str, list[Entry]] = defaultdict(list)
    for entry in sessions:
        works[entry.subtask or entry.role].append(entry)
    for work, of_work in works.items():
        label = f"subtask {work}" if any(e.subtask for e in of_work) else work
        cost = money(sum(e.cost_usd for e in of_work))
        lines.append(f"  {label}  {counted(len(of_work), 'session')}  {cost}")
    return lines


def _month_lines(
    ledger: Ledger,
    store: ProfileStore,
    asked: tuple[str | None, str | None],
    *,
    per_spec: bool = True,
) -> list[str]:
    """Each profile's month: what it spent (any spec), its budget, when it starts again;
    with ``per_spec``, what each spec (of those asked) spent of it."""
    from agent_tui.engine.accounts.budget import profile_budgets
    from agent_tui.engine.accounts.period import period_of
    from agent_tui.engine.events.money import money

    settings = store.settings
    budget_of = profile_budgets(store, settings.monthly_budget_usd, settings.billing_day)
    now = time.time()
    names = list(dict.fromkeys([*store.names(), *(e.profile for e in ledger.sessions())]))
    lines = []
    for name in names:
        budget = budget_of(name)
        period = period_of(now, budget.billing_day)
        month = ledger.select(profile=name, between=(period.start, period.end))
        if not month and budget.monthly_usd is None:
            continue
        spent = sum(e.cost_usd for e in month)
        line = f"profile {name}  {period.label}  {money(spent)}"
        if budget.monthly_usd is not None:
            share = spent / budget.monthly_usd
            line += f" of {money(budget.monthly_usd)} monthly budget ({share:.0%})"
        lines.append(f"{line} · starts again {period.next_reset}{_estimated(month)}")
        if per_spec:
            by_spec: dict[str, float] = defaultdict(float)
            for entry in _matching(month, *asked):
                by_spec[entry.spec] += entry.cost_usd
            lines.extend(f"  spec {spec}  {money(cost)}" for spec, cost in by_spec.items())
    return lines


def _matching(entries: Iterable[Entry], project: str | None, spec: str | None) -> list[Entry]:
    return [
        e
        for e in entries
        if (project is None or e.project == project) and (spec is None or e.spec == spec)
    ]


def _estimated(entries: list[Entry]) -> str:
    guessed = [e for e in entries if e.estimated]
    if not guessed:
        return ""
    return f" (includes {counted(len(guessed), 'session')} estimated: stopped before its cost)"
