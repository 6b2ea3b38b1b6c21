"""The QA loop's bounds and its reading of the reviewer's sign-off: pure tables."""

from __future__ import annotations

import json

import pytest

from agent_tui.engine.stages.qa_bounds import (
    QABounds,
    issue_key,
    issue_text,
    issues_of,
    new_verdict,
    signoff_of,
    similar,
)
from agent_tui.plan import parse_plan


@pytest.mark.parametrize(
    ("issue", "key", "text"),
    [
        ("Missing  tests", "missing tests||", "Missing tests"),
        (
            {"title": "Off by one", "file": "a.py", "line": 3},
            "off by one|a.py|3",
            "Off by one (a.py:3)",
        ),
        ({"description": "No README", "location": "docs"}, "no readme|docs|", "No README (docs)"),
        ({"severity": "high"}, '{"severity": "high"}||', "an issue"),
    ],
)
def test_an_issue_is_its_title_file_and_line(issue, key, text):
    assert issue_key(issue) == key
    assert issue_text(issue) == text


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("off by one|a.py|3", "off by one|a.py|3", True),
        ("off by one in range|a.py|3", "off by one in ranges|a.py|3", True),
        ("off by one|a.py|3", "missing docstring|b.py|9", False),
        ("greet is wrong|core.py|", "greet is wrong|core.py|12", True),
    ],
)
def test_issues_alike_from_a_similarity_of_0_8(a, b, same):
    assert similar(a, b) is same


def test_an_issue_back_a_third_time_stops_the_loop_and_says_which():
    bounds = QABounds(max_iterations=10)
    others = ["README lacks usage", "no test for farewell", "greet ignores empty names"]
    for review, wording in enumerate(["Off by one", "off by  one", "Off by one!"], start=1):
        assert bounds.start_review() is None
        stop = bounds.rejected([{"title": wording, "file": "a.py"}, others[review - 1]])
        if review < 3:
            assert stop is None
    assert stop == "the issue 'Off by one (a.py)' came back in QA reviews 1, 2, 3"
    assert [r.text for r in bounds.recurring()] == ["Off by one (a.py)"]


def test_an_issue_named_twice_in_one_review_counts_once():
    bounds = QABounds(max_iterations=10)
    bounds.start_review()
    assert bounds.rejected(["flaky test", "flaky tests", "flaky test"]) is None
    assert [r.iterations for r in bounds.issues] == [[1]]


def test_three_reviews_in_a_row_without_a_verdict_stop_the_loop_and_a_verdict_resets_them():
    bounds = QABounds(max_iterations=10)
    for _ in range(2):
        bounds.start_review()
        assert bounds.no_verdict() is None
    bounds.start_review()
    assert bounds.rejected(["x"]) is None
    for _ in range(2):
        bounds.start_review()
        assert bounds.no_verdict() is None
    bounds.start_review()
    assert bounds.no_verdict() == "3 QA reviews in a row left no verdict in the plan"
    assert [what for _, what in bounds.history][:3] == ["no verdict", "no verdict", "rejected: x"]


def test_the_iteration_bound_counts_reviews():
    bounds = QABounds(max_iterations=2)
    assert bounds.start_review() is None and bounds.start_review() is None
    assert bounds.start_review() == "no approval after 2 QA reviews (qa_max_iterations)"
    assert bounds.reviews == 2


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        (None, {"status": "approved"}, "approved"),
        (None, {"status": "rejected", "issues_found": []}, "rejected"),
        (
            {"status": "rejected", "qa_session": 1},
            {"status": "rejected", "qa_session": 2},
            "rejected",
        ),
        ({"status": "approved"}, {"status": "approved"}, None),  # an old approval left as is
        ({"status": "rejected"}, {"status": "fixes_applied"}, None),
        (None, {"status": "APPROVED"}, None),
        (None, None, None),
    ],
)
def test_a_verdict_is_a_sign_off_the_review_changed(before, after, verdict):
    assert new_verdict(before, after) == verdict


@pytest.mark.parametrize(
    ("signoff", "found"),
    [
        ({"status": "approved", "qa_session": 2}, {"status": "approved", "qa_session": 2}),
        (None, None),
        ("approved", None),
    ],
)
def test_the_sign_off_is_read_from_the_plan(signoff, found):
    plan = parse_plan(json.dumps({"phases": [], "qa_signoff": signoff}))
    assert signoff_of(plan) == found
    assert signoff_of(None) is None


def test_issues_found_may_be_one_issue_or_none():
    assert issues_of({"issues_found": ["a", "b"]}) == ["a", "b"]
    assert issues_of({"issues_found": "a"}) == ["a"]
    assert issues_of({"status": "rejected"}) == []
