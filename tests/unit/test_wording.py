"""Counts read as English: one subtask, two subtasks."""

import pytest

from agent_tui.text import counted


@pytest.mark.parametrize(
    ("number", "noun", "text"),
    [(0, "subtask", "0 subtasks"), (1, "subtask", "1 subtask"), (2, "commit", "2 commits")],
)
def test_the_noun_is_plural_unless_the_count_is_one(number, noun, text):
    assert counted(number, noun) == text


def test_an_irregular_plural_is_given():
    assert counted(3, "try", "tries") == "3 tries"
