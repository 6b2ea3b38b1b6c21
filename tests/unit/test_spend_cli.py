"""``agent-tui spend``: each spec's total over its runs, each profile's month, a spec's runs
and subtasks, estimates marked; bad input is one line and exit 2."""

from __future__ import annotations

import io
import time

import pytest

from agent_tui.auth.profiles import ProfileStore
from agent_tui.cli.commands import build_parser
from agent_tui.cli.spend import run_spend
from agent_tui.config import spend_dir
from agent_tui.engine.accounts.ledger import Entry, Ledger


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_spend(build_parser().parse_args(["spend", *argv]), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def project(tmp_path):
    project = tmp_path / "app"
    for spec in ("001-greeter", "002-farewell"):
        (project / ".auto-claude" / "specs" / spec).mkdir(parents=True)
        (project / ".auto-claude" / "specs" / spec / "spec.md").write_text("# x\n")
    return project.resolve()


def record(project, spec: str, run: str, session: int, cost: float, **fields) -> None:
    values = {
        "run": run,
        "session": session,
        "profile": "work",
        "spec": str(project / ".auto-claude" / "specs" / spec),
        "project": str(project),
        "role": "coder",
        "ts": time.time(),
        "cost_usd": cost,
        "subtask": "1.1",
        "final": True,
        "estimated": False,
    }
    Ledger(spend_dir()).append(Entry(**{**values, **fields}))


def test_nothing_recorded_says_so():
    assert run() == (0, "no spend recorded yet\n", "")


def test_each_spec_over_its_runs_and_each_profile_this_month(project, utc):
    store = ProfileStore.load()
    store.add("work", config_dir="/tmp/work")
    store.set_budget("work", 20.0)
    store.data.settings.spec_budget_usd = 15.0
    store.save()
    record(project, "001-greeter", "r1", 1, 1.25)
    record(project, "001-greeter", "r2", 2, 0.75, final=False, estimated=True)
    record(project, "002-farewell", "r2", 3, 2.0, profile="home")
    code, out, _ = run()
    greeter = project / ".auto-claude" / "specs" / "001-greeter"
    month = time.strftime("%B %Y", time.gmtime())
    lines = out.splitlines()
    assert lines[0] == (
        f"spec {greeter}  $2.00  2 runs · 2 sessions (includes 1 session estimated: stopped "
        "before its cost) · $2.00 of $15.00 spec_budget_usd (13%)"
    )
    assert lines[2].startswith(f"profile work  {month}  $2.00 of $20.00 monthly budget (10%)")
    assert lines[3].startswith(f"profile home  {month}  $2.00 · starts again 1 ")
    assert code == 0 and len(lines) == 4


def test_one_spec_its_runs_and_subtasks(project):
    record(project, "001-greeter", "r1", 1, 1.0, role="planner", subtask=None)
    record(project, "001-greeter", "r1", 2, 0.5)
    record(project, "001-greeter", "r2", 3, 0.25, subtask="1.2")
    record(project, "002-farewell", "r2", 4, 9.0)
    code, out, _ = run("--project", str(project), "--spec", "001")
    lines = out.splitlines()
    assert code == 0 and lines[0].split("  ")[1:3] == ["$1.75", "2 runs · 3 sessions"]
    assert [line.strip().split("  ")[0] for line in lines[1:6]] == [
        "run r1", "run r2", "planner", "subtask 1.1", "subtask 1.2",
    ]  # fmt: skip
    assert "$9.00" not in out.split("profile")[0]


def test_the_month_alone_with_each_specs_share(project):
    record(project, "001-greeter", "r1", 1, 1.0)
    record(project, "002-farewell", "r1", 2, 3.0)
    old = time.time() - 400 * 86400
    record(project, "001-greeter", "r0", 1, 50.0, ts=old)  # a month long gone
    code, out, _ = run("--month", "--project", str(project))
    lines = out.splitlines()
    assert code == 0 and "$4.00" in lines[0] and "$50" not in out
    assert sorted(line.split("  ")[-1] for line in lines[1:]) == ["$1.00", "$3.00"]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--spec", "001"], "--spec needs --project DIR"),
        (["--project", "/no/such/dir"], "does not exist"),
        (["--project", "{project}", "--spec", "009"], "spec '009' not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(project, argv, said):
    code, out, err = run(*[a.replace("{project}", str(project)) for a in argv])
    assert (code, out) == (2, "") and said in err and err.count("\n") == 1
