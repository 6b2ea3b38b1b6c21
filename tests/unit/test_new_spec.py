"""A new spec from a sentence: its number, its name, its refusals, and that it is there
whole or not at all; and ``agent-tui new``'s command line around it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from agent_tui.cli.commands import main
from agent_tui.plan import PlanError, new_spec
from agent_tui.plan.new_spec import create_spec, next_number, slug_of, spec_from
from agent_tui.plan.specs import find_spec_dir


def specs_of(project: Path) -> list[str]:
    root = project / ".auto-claude" / "specs"
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Add a --verbose flag", "add-a-verbose-flag"),
        ("  Café: crème brûlée API!  ", "cafe-creme-brulee-api"),
        ("Fix bug #12 in parser.py", "fix-bug-12-in-parser-py"),
        ("日本語だけ", "spec"),
        (
            "Make the importer read CSV files with quoted separators and BOMs",
            "make-the-importer-read-csv-files-with",
        ),
        ("x" * 60, "x" * 40),
    ],
)
def test_the_slug_is_short_lower_ascii_words(title, slug):
    assert slug_of(title) == slug
    assert len(slug) <= 40


def test_the_number_is_one_past_the_highest_of_any_numbered_dir(tmp_path):
    root = tmp_path / "specs"
    assert next_number(root) == 1
    for name in ("001-a", "007-b", "notes", "12", "010x"):
        (root / name).mkdir(parents=True)
    (root / "003-file").write_text("")  # even a file holds its number
    assert next_number(root) == 13


def test_a_spec_is_the_next_numbered_dir_with_its_spec_md(tmp_path):
    project = tmp_path / "app"
    project.mkdir()
    first = create_spec(project, "# Add a flag\n", "Add a flag")
    assert first == project / ".auto-claude" / "specs" / "001-add-a-flag"
    assert (first / "spec.md").read_text() == "# Add a flag\n"
    (project / ".auto-claude" / "specs" / "041-by-hand").mkdir()
    second = create_spec(project, "# Add a flag\n", "Add a flag")
    assert second.name == "042-add-a-flag"
    assert find_spec_dir(project, "42") == second.resolve()
    assert os.listdir(project / ".auto-claude") == ["specs"]  # nothing left of the making


def test_a_spec_is_never_seen_half_made_nor_leaves_anything_when_it_fails(tmp_path, monkeypatch):
    project = tmp_path / "app"
    project.mkdir()
    real_rename = os.rename
    seen: list[list[str]] = []

    def rename(source, target):
        # Just before it is placed: the spec dir is not there yet, its spec.md is complete.
        seen.append(specs_of(project))
        assert (Path(source) / "spec.md").read_text() == "# whole\n\nall of it\n"
        real_rename(source, target)

    monkeypatch.setattr(new_spec.os, "rename", rename)
    spec = create_spec(project, "# whole\n\nall of it\n", "whole")
    assert seen == [[]] and specs_of(project) == ["001-whole"]

    def fails(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(new_spec.os, "rename", fails)
    with pytest.raises(PermissionError):
        create_spec(project, "# other\n", "other")
    assert specs_of(project) == ["001-whole"]
    assert sorted(os.listdir(project / ".auto-claude")) == ["specs"]
    assert (spec / "spec.md").read_text() == "# whole\n\nall of it\n"


def test_a_number_taken_meanwhile_is_skipped_never_written_into(tmp_path, monkeypatch):
    project = tmp_path / "app"
    project.mkdir()
    root = project / ".auto-claude" / "specs"
    real_rename = os.rename
    raced: list[str] = []

    def rename(source, target):
        if not raced:  # another `new` takes the number between the look and the rename
            raced.append(str(target))
            Path(target).mkdir()
            (Path(target) / "spec.md").write_text("theirs\n")
        real_rename(source, target)

    monkeypatch.setattr(new_spec.os, "rename", rename)
    spec = create_spec(project, "# mine\n", "mine")
    assert spec.name == "002-mine"
    assert (root / "001-mine" / "spec.md").read_text() == "theirs\n"


def test_the_sentence_is_the_title_and_a_file_the_body(tmp_path):
    assert spec_from("Add a flag", None) == ("# Add a flag\n", "Add a flag")
    assert spec_from("Add a flag\nwith a default of 3", None) == (
        "# Add a flag\n\nwith a default of 3\n",
        "Add a flag",
    )
    written = tmp_path / "spec.md"
    written.write_text("## Importer\n\nRead CSV files.")
    assert spec_from(None, str(written)) == ("## Importer\n\nRead CSV files.\n", "Importer")
    assert spec_from("CSV", str(written)) == (
        "# CSV\n\n## Importer\n\nRead CSV files.\n",
        "CSV",
    )


@pytest.mark.parametrize(
    ("sentence", "file_text", "said"),
    [
        (None, None, 'say what to build: agent-tui new "SENTENCE", or --from FILE'),
        ("   ", None, "the sentence is empty: say in a few words what to build"),
        (None, "", "the file is empty"),
        (None, b"\xff\xfe\x00bad", "not UTF-8 text"),
        (None, "x" * (256 * 1024 + 1), "larger than 256 KiB"),
    ],
)
def test_input_that_makes_no_spec_is_one_sentence(tmp_path, sentence, file_text, said):
    path = None
    if file_text is not None:
        path = tmp_path / "spec.txt"
        data = file_text.encode() if isinstance(file_text, str) else file_text
        path.write_bytes(data)
    with pytest.raises(PlanError) as refused:
        spec_from(sentence, str(path) if path else None)
    assert said in str(refused.value) and "\n" not in str(refused.value)


def test_new_without_a_plan_creates_the_spec_and_says_what_to_run(tmp_path, capsys):
    project = tmp_path / "app"
    project.mkdir()
    assert main(["new", "Add a --verbose flag", "--project", str(project), "--no-plan"]) == 0
    spec = project / ".auto-claude" / "specs" / "001-add-a-verbose-flag"
    assert (spec / "spec.md").read_text() == "# Add a --verbose flag\n"
    assert capsys.readouterr().out.splitlines() == [
        f"created {spec / 'spec.md'}",
        f"next: agent-tui run --project {project} --spec 001-add-a-verbose-flag",
    ]


@pytest.mark.parametrize("ignored", [False, True])
def test_new_in_a_repository_that_does_not_ignore_the_specs_says_so(tmp_path, capsys, ignored):
    project = tmp_path / "app"
    project.mkdir()
    user = ["-c", "user.name=u", "-c", "user.email=u@u"]
    (project / ".gitignore").write_text(".auto-claude/\n" if ignored else "build/\n")
    for args in (["init", "-q"], ["add", "-A"], [*user, "commit", "-qm", "start"]):
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)
    assert main(["new", "Add a flag", "--project", str(project), "--no-plan"]) == 0
    err = capsys.readouterr().err
    note = "note: git shows .auto-claude/ as new files here: add it to .gitignore, unless"
    assert (note in err) is not ignored


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["new", "--project", "{p}", "--no-plan"], "say what to build"),
        (["new", "", "--project", "{p}", "--no-plan"], "the sentence is empty"),
        (["new", "x", "--from", "{p}/nothing.md", "--project", "{p}", "--no-plan"], "no such file"),
        (["new", "x", "--project", "{p}/nowhere", "--no-plan"], "does not exist"),
        (["new", "x", "--project", "{p}"], "stdout is not a terminal: use --headless"),
    ],
)
def test_bad_input_to_new_is_one_line_exit_2_and_makes_nothing(tmp_path, capsys, argv, said):
    project = tmp_path / "app"
    project.mkdir()
    assert main([a.replace("{p}", str(project)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("agent-tui: ") and said in err
    assert list(project.iterdir()) == []


@pytest.fixture
def logged_out(tmp_path, monkeypatch):
    """No login anywhere: the run's checks refuse a new spec for it."""
    for name in ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_new_refused_by_the_runs_checks_leaves_no_spec_behind(tmp_path, capsys, logged_out):
    project = tmp_path / "app"
    project.mkdir()
    assert main(["new", "Add a flag", "--project", str(project), "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("agent-tui: not logged in:") and err.count("\n") == 1
    assert list(project.iterdir()) == []  # not even the dirs made to hold it


def test_new_refused_in_a_repository_says_only_why(tmp_path, capsys, logged_out):
    # Found by a newcomer: the note on git showing .auto-claude/ came first, about a spec
    # the refusal then removed.
    project = tmp_path / "app"
    project.mkdir()
    (project / "README.md").write_text("# app\n")
    user = ["-c", "user.name=u", "-c", "user.email=u@u"]
    for args in (["init", "-q"], ["add", "-A"], [*user, "commit", "-qm", "start"]):
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)
    assert main(["new", "Add a flag", "--project", str(project), "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("agent-tui: not logged in:") and err.count("\n") == 1


def test_new_without_a_plan_in_a_repository_with_no_commit_says_to_make_one(tmp_path, capsys):
    project = tmp_path / "app"
    project.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".gitignore").write_text(".auto-claude/\n")
    assert main(["new", "Add a flag", "--project", str(project), "--no-plan"]) == 0
    said = capsys.readouterr()
    assert said.err == (
        "note: the repository has no commit yet: commit your files before agent-tui run "
        "(its work starts from a commit)\n"
    )
    assert said.out.splitlines()[-1].startswith("next: agent-tui run --project ")


def test_run_end_names_the_outcomes_as_the_engine_does(tmp_path):
    from agent_tui.cli import plan_review
    from agent_tui.engine.control.result import RunOutcome

    assert (plan_review.PLANNED, plan_review.DISCARDED) == (
        RunOutcome.PLANNED,
        RunOutcome.DISCARDED,
    )
    spec = tmp_path / "001-x"
    spec.mkdir()
    (spec / "spec.md").write_text("# x\n")
    (spec / "implementation_plan.json").write_text("{}")
    said = plan_review.discard_planned(spec)
    assert (
        said == f"discarded: removed {spec / 'implementation_plan.json'}; the next run plans again"
    )
    assert sorted(p.name for p in spec.iterdir()) == ["spec.md"]
