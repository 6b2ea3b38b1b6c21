"""The log's one-line summaries of tool results, from what the real CLI returns."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_tui.engine.agents.claude.summary import summarize_result

# As CLI 2.1 returns them (captured against the sim): a Read numbers each line with a tab
# and numbers the empty line after the last newline; Write and Edit add a note for the model.
READ = "1\thello\n2\t\tindented\n3\tthird line\n4\t"
NOTE = " (file state is current in your context — no need to Read it back)"


@pytest.mark.parametrize(
    ("raw", "summary"),
    [
        (READ, "3 lines"),
        ("1\tonly\n2\t", "1 line"),
        ("40\tdef f():\n41\t    return 1\n42\t", "lines 40-41"),
        ("     7→x = 1\n     8→y = 2\n", "lines 7-8"),
        ("File does not exist.", "File does not exist."),
    ],
)
def test_a_file_read_says_which_lines_not_the_file_run_together_with_numbers(raw, summary):
    assert summarize_result(raw, tool="Read") == summary


def test_numbered_output_of_another_tool_stays_as_it_was():
    assert summarize_result("1\tapple\n2\tpear", tool="Bash") == "1 apple 2 pear"


@pytest.mark.parametrize(
    "raw",
    [
        f"File created successfully at: /work/p/src/a.py{NOTE}",
        f"The file /work/p/src/a.py has been updated successfully.{NOTE}",
    ],
)
def test_the_clis_note_to_the_model_is_left_out_of_every_write(raw):
    summary = summarize_result(raw, Path("/work/p"), tool="Write")
    assert "file state" not in summary and "src/a.py" in summary
    assert "/work/p" not in summary
