"""The QA loop through the real CLI and the sim: the reviewer and the fixer are real
sessions whose scripted model writes the report, the fix request and the sign-off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events import workspace as wev
from agent_tui.engine.events.trust import QAVerdictKind
from tests.integration.git_repo import branch_log, git
from tests.integration.helpers import coder_steps, plan_doc, script

pytestmark = pytest.mark.integration

REVIEWER = r"Role: QA reviewer\."
FIXER = r"Role: QA fixer\."


def write(path: str, content: str) -> dict[str, Any]:
    return {"tools": [{"name": "Write", "input": {"file_path": path, "content": content}}]}


def edit_plan(**change: Any) -> list[dict[str, Any]]:
    """Steps that change the plan's qa_signoff with the Edit tool (Bash cannot write in the
    spec dir): ``set`` replaces top-level keys, ``merge`` updates the dict there."""
    return [
        {"tools": [{"name": "Read", "input": {"file_path": "{plan}"}}]},
        {"tools": [{"name": "Edit", "edit_plan": change}]},
    ]


def review(verdict: str, issues: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    signoff = {"status": verdict, "issues_found": issues, "report_file": "qa_report.md"}
    steps = [write("{spec_dir}/qa_report.md", f"# QA report {n}\n\n{verdict}\n")]
    if n > 1:  # the CLI overwrites only a file the session has read
        steps.insert(
            0, {"tools": [{"name": "Read", "input": {"file_path": "{spec_dir}/qa_report.md"}}]}
        )
    if verdict == "rejected":
        request = "".join(f"- {issue['title']} in {issue['file']}\n" for issue in issues)
        steps.append(write("{spec_dir}/QA_FIX_REQUEST.md", f"# Fix request {n}\n\n{request}"))
    steps += edit_plan(set={"qa_signoff": signoff})
    return [*steps, {"text": f"Review {n}: {verdict}."}]


def fix(n: int) -> list[dict[str, Any]]:
    change = {"status": "fixes_applied", "ready_for_qa_revalidation": True}
    return [
        write("{project}/README.md", f"Usage: greet NAME (fix {n})\n"),
        *edit_plan(merge={"qa_signoff": change}),
        {"text": "Fixed."},
    ]


ISSUE = {"title": "README lacks usage", "file": "README.md", "line": 1}
BRANCH = "agent-tui/001-test"


async def test_reject_fix_approve_ends_with_exit_0_and_an_approved_sign_off(make_run):
    scripts = [
        script("1.1", [coder_steps("1.1")]),
        {
            "match": REVIEWER,
            "sessions": [review("rejected", [ISSUE], 1), review("approved", [], 2)],
        },
        {"match": FIXER, "sessions": [fix(1)]},
    ]
    run = make_run(plan_doc([("1", [], ["1.1"])]), scripts, qa=True)
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    signoff = run.plan["qa_signoff"]
    assert signoff["status"] == "approved" and signoff["report_file"] == "qa_report.md"
    assert signoff["qa_session"] == 2  # filled in by agent-tui: the review did not say
    assert run.plan["x_custom"] == {"kept": True}
    assert (run.project / "README.md").read_text() == "Usage: greet NAME (fix 1)\n"
    assert (run.spec_dir / "qa_report.md").read_text().startswith("# QA report 2")
    assert not (run.spec_dir / "QA_FIX_REQUEST.md").exists()

    kinds = [e.kind for e in run.of(ev.SessionStarted)]
    assert kinds == ["coder", "qa_reviewer", "qa_fixer", "qa_reviewer"]
    fixer_prompt = next(r.prompt for r in run.sim.requests_for(FIXER))
    assert "- README lacks usage in README.md" in fixer_prompt  # the request, in the prompt
    assert "- README lacks usage (README.md:1)" in fixer_prompt
    verdicts = [e.verdict for e in run.of(tev.QAVerdict)]
    assert verdicts == [QAVerdictKind.REJECTED, QAVerdictKind.APPROVED]
    assert run.of(ev.LoopFinished)[0].message.endswith("QA approved them in review 2")


async def test_an_issue_that_keeps_coming_back_escalates_with_exit_3(make_run):
    scripts = [
        script("1.1", [coder_steps("1.1")]),
        {"match": REVIEWER, "sessions": [review("rejected", [ISSUE], n) for n in (1, 2, 3)]},
        {"match": FIXER, "sessions": [fix(1), fix(2)]},
    ]
    run = make_run(plan_doc([("1", [], ["1.1"])]), scripts, qa=True)
    await run.go()

    assert run.exit_code == 3
    finished = run.of(ev.LoopFinished)[0]
    assert finished.outcome == "qa_escalated"
    reason = "the issue 'README lacks usage (README.md:1)' came back in QA reviews 1, 2, 3"
    assert finished.message == f"QA escalated: {reason} (see QA_ESCALATION.md)"
    escalation = (run.spec_dir / "QA_ESCALATION.md").read_text()
    assert reason in escalation and "- README lacks usage (README.md:1) (reviews 1, 2, 3)" in (
        escalation
    )
    assert run.plan["qa_signoff"]["status"] == "rejected"
    kinds = [e.kind for e in run.of(ev.SessionStarted)]
    assert kinds == ["coder", *["qa_reviewer", "qa_fixer"] * 2, "qa_reviewer"]
    kept = sorted(p.name for p in (run.spec_dir / "logs").glob("*.qa-fix-request.md"))
    assert kept == ["session-003.qa-fix-request.md", "session-005.qa-fix-request.md"]
    assert json.loads((run.spec_dir / "implementation_plan.json").read_text())["phases"]


async def test_in_a_worktree_qa_reviews_there_and_the_fix_is_a_commit_on_the_branch(make_run):
    scripts = [
        script("1.1", [coder_steps("1.1")]),
        {
            "match": REVIEWER,
            "sessions": [review("rejected", [ISSUE], 1), review("approved", [], 2)],
        },
        {"match": FIXER, "sessions": [fix(1)]},
    ]
    run = make_run(plan_doc([("1", [], ["1.1"])]), scripts, qa=True)
    project = run.project
    (project / ".gitignore").write_text(".auto-claude/\n")
    (project / "app.py").write_text("print('hello')\n")
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "start")
    await run.go()

    assert run.exit_code == 0, run.of(ev.LoopFinished)
    [status] = run.of(wev.WorkspaceStatus)
    worktree = Path(status.path)
    assert status.mode == "worktree" and worktree != project
    agent_spec = worktree / ".auto-claude" / "specs" / "001-test"
    for request in run.sim.requests_for(REVIEWER):
        assert f"Project directory: {worktree}\n" in request.prompt
        assert f"Plan file: {agent_spec / 'implementation_plan.json'}\n" in request.prompt
    assert run.plan["qa_signoff"]["status"] == "approved"  # the user's plan
    assert (run.spec_dir / "qa_report.md").read_text().startswith("# QA report 2")
    assert not (project / "README.md").exists()  # the user's checkout: untouched
    log = branch_log(project, BRANCH)
    assert log == ["subtask 1.1: make 1.1", "qa fix 1: README lacks usage (README.md:1)"]
    assert git(project, "show", f"{BRANCH}:README.md") == "Usage: greet NAME (fix 1)\n"
