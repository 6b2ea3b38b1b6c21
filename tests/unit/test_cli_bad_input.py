"""Bad input: one clear line on stderr, exit 2, no traceback, nothing on disk changed."""

from __future__ import annotations

import json
import os

import pytest

from agent_tui.cli.commands import main
from agent_tui.engine.control.runlock import RunLock
from agent_tui.runproc.places import RunPlace
from agent_tui.runproc.record import RunRecord, RunState, process_start

GOOD_PLAN = {
    "feature": "f",
    "phases": [
        {
            "id": "1",
            "name": "P",
            "subtasks": [{"id": "1.1", "description": "d", "status": "pending"}],
        }
    ],
}


def snapshot(root) -> dict[str, tuple[int, bytes]]:
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                files[path] = (os.stat(path).st_mtime_ns, handle.read())
    return files


def project_with(tmp_path, plan_text: str | None):
    spec = tmp_path / "proj" / ".auto-claude" / "specs" / "001-x"
    spec.mkdir(parents=True)
    if plan_text is not None:
        (spec / "implementation_plan.json").write_text(plan_text)
    return tmp_path / "proj"


def corrupt_config(tmp_path, isolated_config):
    isolated_config.mkdir(parents=True, exist_ok=True)
    (isolated_config / "profiles.json").write_text("{ nope")


def corrupt_credentials(tmp_path, isolated_config):
    config_dir = tmp_path / "claude-x"
    config_dir.mkdir()
    (config_dir / ".credentials.json").write_text("{garbage")
    isolated_config.mkdir(parents=True, exist_ok=True)
    (isolated_config / "profiles.json").write_text(
        json.dumps({"profiles": [{"name": "x", "config_dir": str(config_dir)}], "active": "x"})
    )


def dangling_active(tmp_path, isolated_config):
    isolated_config.mkdir(parents=True, exist_ok=True)
    (isolated_config / "profiles.json").write_text(
        json.dumps({"profiles": [{"name": "x"}], "active": "zzz"})
    )


def corrupt_history(tmp_path, isolated_config):
    memory = tmp_path / "proj" / ".auto-claude" / "specs" / "001-x" / "memory"
    memory.mkdir()
    (memory / "attempt_history.json").write_text("[")


def bare_directory(tmp_path, isolated_config):
    (tmp_path / "proj" / "elsewhere").mkdir()
    (tmp_path / "outside-spec").mkdir()
    (tmp_path / "outside-spec" / "spec.md").write_text("# a spec outside the project")


def spec_already_running(tmp_path, isolated_config):
    lock = RunLock(tmp_path / "proj" / ".auto-claude" / "specs" / "001-x")
    lock.acquire()  # as another run would: the check sees it through a separate descriptor
    return lock


def spec_run_by_an_app(tmp_path, isolated_config):
    """A run in its own process, which ``attach`` reaches: it holds the lock, and its record
    names this (live) process."""
    spec_dir = tmp_path / "proj" / ".auto-claude" / "specs" / "001-x"
    lock = spec_already_running(tmp_path, isolated_config)
    place = RunPlace.of(spec_dir)
    place.directory.mkdir(parents=True, exist_ok=True)
    record = RunRecord(
        key=place.key, spec="001-x", spec_dir=str(spec_dir), project_dir=str(spec_dir.parents[2]),
        pid=os.getpid(), socket=str(place.socket), log=str(place.log),
        process_start=process_start(os.getpid()),
    )  # fmt: skip
    record.write(place.record)
    return lock


def linked_logs(tmp_path, isolated_config):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "proj" / ".auto-claude" / "specs" / "001-x" / "logs").symlink_to(
        tmp_path / "elsewhere"
    )


def linked_lock(tmp_path, isolated_config):
    (tmp_path / "victim").write_text("the user's\n")
    (tmp_path / "proj" / ".auto-claude" / "specs" / "001-x" / ".agent-tui.lock").symlink_to(
        tmp_path / "victim"
    )


CASES = [
    ("missing project", None, ["--project", "{tmp}/nowhere"], "does not exist"),
    ("project is a file", None, ["--project", "{tmp}/file.txt"], "is not a directory"),
    ("unknown spec", json.dumps(GOOD_PLAN), ["--spec", "999"], "spec '999' not found"),
    ("malformed plan", "{ broken", [], "not valid JSON"),
    ("empty plan", "   ", [], "the plan file is empty"),
    ("huge plan", '{"pad": "' + "x" * (5 * 1024 * 1024 + 10) + '"}', [], "too large"),
    (
        "unknown status",
        json.dumps({"phases": [{"id": "1", "subtasks": [{"id": "a", "status": "doing"}]}]}),
        [],
        "status 'doing' is not one of",
    ),
    (
        "a check written as a string",
        json.dumps(
            {"phases": [{"id": "1", "subtasks": [{"id": "a", "verification": "npm test"}]}]}
        ),
        [],
        "subtask 1, verification must be an object ({…}), not a string: for a command to run, "
        '{"type": "command", "command": "npm test"}',
    ),
    (
        "dependency cycle",
        json.dumps(
            {"phases": [{"id": "1", "depends_on": ["2"]}, {"id": "2", "depends_on": ["1"]}]}
        ),
        [],
        "cycle",
    ),
    ("not an object", "[]", [], "must be a JSON object"),
    (
        "spec path is not a spec",
        json.dumps(GOOD_PLAN),
        ["--spec", "{tmp}/proj/elsewhere"],
        "elsewhere is not a spec directory: it has neither spec.md nor implementation_plan.json",
    ),
    (
        "spec outside the project",
        json.dumps(GOOD_PLAN),
        ["--spec", "{tmp}/outside-spec"],
        "is outside the project",
    ),
    ("unknown profile", json.dumps(GOOD_PLAN), ["--profile", "ghost"], "no profile named 'ghost'"),
    ("unreadable config", json.dumps(GOOD_PLAN), [], "profiles.json is not valid JSON"),
    ("corrupt credentials", json.dumps(GOOD_PLAN), [], "is not a Claude credential"),
    # An active profile missing from the file is refused, not replaced by the default login.
    ("dangling active", json.dumps(GOOD_PLAN), [], "the active profile 'zzz' is not in "),
    ("corrupt history", json.dumps(GOOD_PLAN), [], "attempt_history.json: not valid JSON"),
    ("linked logs", json.dumps(GOOD_PLAN), [], "logs is a symbolic link or not a directory"),
    ("linked lock", json.dumps(GOOD_PLAN), [], ".agent-tui.lock is a symbolic link"),
    (
        "spec already running",
        json.dumps(GOOD_PLAN),
        [],
        f"spec '001-x' is already being run (pid {os.getpid()} since ",
    ),
    (
        "spec already running headless, said so",
        json.dumps(GOOD_PLAN),
        [],
        "it runs without an app to attach to (--headless): its terminal shows it",
    ),
    ("spec already running, said how to see it", json.dumps(GOOD_PLAN), [], "attach shows that"),
]


def a_file(tmp_path, isolated_config):
    (tmp_path / "file.txt").write_text("not a project")


def history_of(text):
    def setup(tmp_path, isolated_config):
        memory = tmp_path / "proj" / ".auto-claude" / "specs" / "001-x" / "memory"
        memory.mkdir()
        (memory / "attempt_history.json").write_text(text)

    return setup


def config_of(text):
    def setup(tmp_path, isolated_config):
        isolated_config.mkdir(parents=True, exist_ok=True)
        (isolated_config / "profiles.json").write_text(text)

    return setup


HISTORY_SHAPES = {
    "history subtasks a list": ('{"subtasks": []}', "subtasks must be an object"),
    "history stuck of numbers": ('{"stuck_subtasks": [1]}', "stuck_subtasks must be a list"),
    "history attempts a string": (
        '{"subtasks": {"1.1": {"attempts": "x"}}}',
        "subtask '1.1' must hold a list of attempts",
    ),
    "history metadata a list": ('{"metadata": []}', "metadata must be an object"),
}
HOSTILE_CONFIG = {
    "profiles nested deeply": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "profiles huge number": ('{"x": ' + "9" * 5000 + "}", "is not a profiles file"),
}
CASES += [
    (name, json.dumps(GOOD_PLAN), [], message) for name, (_, message) in HISTORY_SHAPES.items()
] + [(name, json.dumps(GOOD_PLAN), [], message) for name, (_, message) in HOSTILE_CONFIG.items()]


SETUP = {
    **{name: history_of(text) for name, (text, _) in HISTORY_SHAPES.items()},
    **{name: config_of(text) for name, (text, _) in HOSTILE_CONFIG.items()},
    "project is a file": a_file,
    "unreadable config": corrupt_config,
    "corrupt credentials": corrupt_credentials,
    "dangling active": dangling_active,
    "corrupt history": corrupt_history,
    "spec already running": spec_already_running,
    "spec already running headless, said so": spec_already_running,
    "spec already running, said how to see it": spec_run_by_an_app,
    "linked logs": linked_logs,
    "linked lock": linked_lock,
    "spec path is not a spec": bare_directory,
    "spec outside the project": bare_directory,
}


@pytest.mark.parametrize(("name", "plan", "extra", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(
    tmp_path, capsys, isolated_config, name, plan, extra, message
):
    project = project_with(tmp_path, plan)
    held = SETUP[name](tmp_path, isolated_config) if name in SETUP else None
    before = snapshot(tmp_path)
    argv = [
        "run",
        "--project",
        str(project),
        "--headless",
        *[a.replace("{tmp}", str(tmp_path)) for a in extra],
    ]
    if extra[:1] == ["--project"]:
        argv = ["run", *[a.replace("{tmp}", str(tmp_path)) for a in extra], "--headless"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("agent-tui: ") and message in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""
    assert snapshot(tmp_path) == before
    if held is not None:
        held.release()


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["run", "--project", ""], "--project"),
        (["run", "--project", "{proj}", "--spec", ""], "--spec"),
        (["run", "--project", "{proj}", "--profile", " "], "--profile"),
        (["run", "--project", "{proj}", "--model", ""], "--model"),
        (["demo", "--workdir", ""], "--workdir"),
        (["profiles", "add", "x", "--config-dir", ""], "--config-dir"),
        (["profiles", "add", "x", "--token-env", ""], "--token-env"),
        (["profiles", "use", ""], "name"),
    ],
)
def test_an_empty_value_is_refused_not_taken_as_the_default(
    tmp_path, capsys, monkeypatch, isolated_config, argv, option
):
    # `--project "$DIR"` with DIR unset ran the loop on the current directory; an empty
    # --config-dir added a profile for the default login.
    project = project_with(tmp_path, json.dumps(GOOD_PLAN))
    monkeypatch.chdir(project)
    before = snapshot(tmp_path)
    assert main([a.replace("{proj}", str(project)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"agent-tui: argument {option}: must not be empty (see agent-tui ")
    assert len(err.splitlines()) == 1
    assert snapshot(tmp_path) == before
    assert not isolated_config.exists()


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--bogus"], "unknown option --bogus (see agent-tui run --help)"),
        (["--projct", "."], "unknown option --projct (see agent-tui run --help)"),
        (["run", "--project", ".", "--bogus"], "unknown option --bogus (see agent-tui run --help)"),
        (["run", "--bogus", "-x"], "unknown options --bogus, -x (see agent-tui run --help)"),
        (
            ["settings", "show", "KEY"],
            "unexpected argument 'KEY' (see agent-tui settings show --help)",
        ),
        (
            ["diff", "--project", ".", "--squash"],
            "unknown option --squash (see agent-tui diff --help)",
        ),
        (
            ["run"],
            "the following arguments are required: --project (see agent-tui run --help)",
        ),
        (
            ["run", "--project", ".", "--events", "jsonl"],
            "--events jsonl applies only with --headless (the app shows the events itself): "
            "add --headless, or drop --events",
        ),
        (
            ["demo", "--events", "text"],
            "--events text applies only with --headless (the app shows the events itself): "
            "add --headless, or drop --events",
        ),
    ],
)
def test_an_argument_error_is_one_line_naming_the_problem(
    tmp_path, capsys, monkeypatch, isolated_config, argv, line
):
    from agent_tui.cli import commands

    def started(args):
        raise AssertionError("the arguments were taken: the command ran")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(commands, "_run", started)
    monkeypatch.setattr(commands, "_demo", started)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert (captured.err, captured.out) == (f"agent-tui: {line}\n", "")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_the_command_loads_exits_130_without_a_traceback():
    # An interrupt can land while the command line itself still loads, before main's
    # handler exists: here it lands on the first import of argparse.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'argparse':\n"
        "            raise KeyboardInterrupt\n"
        "sys.modules.pop('argparse', None)\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "from agent_tui.cli import main\n"
        "sys.exit(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (130, "")


def test_ctrl_c_while_the_parser_is_built_exits_130(monkeypatch, capsys):
    from agent_tui.cli import commands as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert main(["demo"]) == 130
    assert capsys.readouterr().err == ""


def test_run_is_the_default_command(tmp_path, capsys):
    assert main(["--project", str(tmp_path / "nowhere"), "--headless"]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["stauts"], ["lsit", "--project", "."]])
def test_a_word_that_names_no_command_is_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        f"agent-tui: no command {argv[0]!r} "
        "(commands: run, new, demo, ls, attach, serve, profiles, settings, spend, diff, "
        "merge, discard)\n"
    )


def test_a_missing_cli_is_one_line(tmp_path, capsys, monkeypatch, default_login):
    import shutil

    from agent_tui.startup import checks

    project = project_with(tmp_path, json.dumps(GOOD_PLAN))
    monkeypatch.setattr(checks, "bundled_cli", lambda: tmp_path / "gone" / "claude")
    monkeypatch.setattr(shutil, "which", lambda name, **_: None)
    assert main(["run", "--project", str(project), "--headless"]) == 2
    assert "Claude Code CLI was not found" in capsys.readouterr().err


def test_the_bundled_cli_is_found_without_importing_the_sdk():
    import subprocess
    import sys

    code = (
        "import sys; from agent_tui.startup.checks import bundled_cli; path = bundled_cli(); "
        "print(path.is_file(), 'claude_agent_sdk' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("agent-tui 0.1.0")
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = capsys.readouterr().out
    assert "--max-iterations" in help_text and "--events" in help_text


def test_the_app_path_leaves_the_checks_libraries_to_the_preflight_child():
    """What ``agent-tui run`` loads before its first frame: the parser and the app, but not
    pydantic, keyring or the credential lookup (the forked child loads those), nor the modal
    screens (loaded when first shown)."""
    import subprocess
    import sys

    code = (
        "import sys; from agent_tui.cli import commands as cli; cli.build_parser(); "
        "import agent_tui.startup.launch, agent_tui.startup.launched_app; "
        "print(sorted({'pydantic', 'keyring', 'agent_tui.auth.credentials', "
        "'agent_tui.startup.checks', "
        "'agent_tui.auth.keychain', 'claude_agent_sdk', 'attr', 'rich.pretty', "
        "'agent_tui.tui.screens.profile_picker', 'agent_tui.tui.screens.confirm_quit', "
        "'agent_tui.tui.screens.subtask_detail'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_checks_fork_before_the_libraries_both_sides_load_anyway():
    """Whatever loads before the fork delays the app and the checks alike: the parser and
    the fork need neither dataclasses (nor inspect, which it loads) nor pickle."""
    import subprocess
    import sys

    code = (
        "import sys; from agent_tui.cli import commands as cli; "
        "from agent_tui.startup import launch; "
        "cli.build_parser().parse_args(['run', '--project', '.']); "
        "print(sorted({'dataclasses', 'inspect', 'pickle', 'asyncio'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_required_containment_without_a_sandbox_is_one_line(
    tmp_path, capsys, isolated_config, monkeypatch, default_login
):
    project = project_with(tmp_path, json.dumps(GOOD_PLAN))
    isolated_config.mkdir()
    (isolated_config / "profiles.json").write_text('{"settings": {"containment": "required"}}')
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no bwrap, no socat
    before = snapshot(tmp_path)
    assert main(["run", "--project", str(project), "--headless"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "containment is required" in err[0]
    assert "bwrap not installed; socat not installed" in err[0]
    assert "apt-get install -y bubblewrap socat" in err[0]
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("plan", ['{"feature": "f", "phases": []}', '{"phases": [{"id": "1"}]}'])
def test_an_empty_plan_without_a_spec_md_is_refused_before_any_session(
    tmp_path, plan, default_login
):
    # Found by a user: it ran three planner sessions (with nothing to plan from), made a
    # branch and a worktree, then exited 3.
    from agent_tui.cli import commands as cli
    from agent_tui.exit_codes import InputError
    from agent_tui.startup.checks import check_run

    project = project_with(tmp_path, plan)
    args = cli.parse(cli.build_parser(), ["run", "--project", str(project), "--headless"])
    with pytest.raises(InputError) as refused:
        check_run(args)
    assert str(refused.value) == (
        "spec '001-x' has nothing to work from: its plan has no subtasks and there is no "
        "spec.md for the planner to plan from; write spec.md (the task) or the plan's subtasks"
    )
    (project / ".auto-claude" / "specs" / "001-x" / "spec.md").write_text("# the task\n")
    assert check_run(args).spec_dir.name == "001-x"  # the planner has a task to plan


def test_attach_to_a_spec_a_headless_run_holds_says_it_has_no_app_to_attach_to(
    tmp_path, isolated_config
):
    from agent_tui.cli.runs import _the_run  # what attach looks for (after the terminal)
    from agent_tui.exit_codes import InputError

    project = project_with(tmp_path, json.dumps(GOOD_PLAN))
    held = spec_already_running(tmp_path, isolated_config)
    with pytest.raises(InputError) as refused:
        _the_run(project, "001-x")
    assert str(refused.value) == (
        "001-x is being run without an app to attach to (--headless): its terminal shows it"
    )
    held.release()
    with pytest.raises(InputError, match="no run of 001-x on this machine"):
        _the_run(project, "001-x")


def test_attach_to_a_finished_run_says_how_it_ended_and_what_to_do_next(tmp_path, isolated_config):
    from agent_tui.cli.runs import _the_run
    from agent_tui.exit_codes import InputError

    project = project_with(tmp_path, json.dumps(GOOD_PLAN))
    spec_run_by_an_app(tmp_path, isolated_config).release()  # the run has ended
    place = RunPlace.of(project / ".auto-claude" / "specs" / "001-x")
    record = RunRecord.read(place.record)
    assert record is not None
    record.state, record.outcome, record.branch = RunState.FINISHED, "complete", "agent-tui/001-x"
    record.message = "all 1 subtask completed"
    record.write(place.record)
    with pytest.raises(InputError) as refused:
        _the_run(project, "001-x")
    assert str(refused.value) == (
        "the run of 001-x has finished, complete: all 1 subtask completed; the work is on "
        f"agent-tui/001-x: agent-tui diff --project {project} --spec 001-x shows it, then "
        "merge or discard"
    )
