"""The verification and QA settings, and --qa: from the command line to the loop's config."""

from __future__ import annotations

import pytest

from agent_tui.cli import commands as cli
from agent_tui.cli.commands import main
from agent_tui.startup.checks import build_loop, check_run


@pytest.fixture
def project(tmp_path, default_login):
    spec_dir = tmp_path / "app" / ".auto-claude" / "specs" / "001-x"
    spec_dir.mkdir(parents=True)
    (spec_dir / "spec.md").write_text("# x\n")
    return tmp_path / "app"


def config_for(*argv: str):
    args = cli.build_parser().parse_args(["run", *argv])
    return build_loop(check_run(args), lambda event: None).config


def test_verification_is_on_and_qa_off_unless_asked(project):
    config = config_for("--project", str(project))
    assert config.verification is True and config.verification_timeout_s == 300
    assert config.qa is False and config.qa_max_iterations == 10


def test_the_settings_reach_the_loop_and_qa_comes_on_with_the_flag(project):
    assert main(["settings", "set", "verification", "off"]) == 0
    assert main(["settings", "set", "verification_timeout_s", "45"]) == 0
    assert main(["settings", "set", "qa_max_iterations", "4"]) == 0
    config = config_for("--project", str(project), "--qa")
    assert config.verification is False and config.verification_timeout_s == 45
    assert config.qa is True and config.qa_max_iterations == 4
    assert main(["settings", "set", "qa", "on"]) == 0
    assert config_for("--project", str(project)).qa is True


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("verification_timeout_s", "601", "verification_timeout_s must be at most 600"),
        ("verification_timeout_s", "0", "verification_timeout_s must be more than 0"),
        ("qa_max_iterations", "0", "qa_max_iterations must be at least 1"),
        ("qa_max_iterations", "two", "is a number"),
    ],
)
def test_out_of_range_values_are_refused_in_one_line(key, value, said, capsys):
    assert main(["settings", "set", key, value]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1
