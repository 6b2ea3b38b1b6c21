"""Headless output: JSON lines carry type and ts; text lines are readable and masked."""

from __future__ import annotations

import json

import pytest

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import lanes as lev
from agent_tui.engine.events.lanes import MergeOutcome
from agent_tui.headless import format_json, format_text

CANARY = "sk-ant-oat01-CANARYcanary0123456789abcdef"


def test_json_lines_have_type_ts_and_fields():
    line = format_json(
        ev.BackoffStarted(
            kind="tool_concurrency", delay_s=8.0, retry=3, max_retries=5, deadline=12.5, ts=100.0
        )
    )
    assert json.loads(line) == {
        "type": "backoff_started",
        "ts": 100.0,
        "kind": "tool_concurrency",
        "delay_s": 8.0,
        "retry": 3,
        "max_retries": 5,
        "deadline": 12.5,
        "remaining_s": None,
        "resets_at": None,
        "lane": 1,
    }


def test_a_backoff_that_goes_on_after_a_pause_says_what_is_left():
    def event(remaining):
        return ev.BackoffStarted(
            kind="tool_concurrency",
            delay_s=4.0,
            retry=2,
            max_retries=5,
            deadline=9.0,
            remaining_s=remaining,
        )

    assert "waiting 4 s (retry 2/5)" in format_text(event(None))
    assert "waiting 4 s (retry 2/5)" in format_text(event(4.0))
    assert "waiting the last 3 s (retry 2/5)" in format_text(event(2.2))
    assert json.loads(format_json(event(2.2)))["remaining_s"] == 2.2


def test_profile_switched_uses_from_as_the_key():
    data = json.loads(format_json(ev.ProfileSwitched(from_="a", to="b", reason="rate_limit")))
    assert (data["from"], data["to"], data["reason"]) == ("a", "b", "rate_limit")


def test_every_event_type_has_a_text_line():
    samples = {
        ev.SessionStarted: dict(
            session=1,
            kind="coder",
            subtask_id="1.1",
            profile="p",
            attempt=1,
            model=None,
            transcript="logs/session-001.jsonl",
        ),
        ev.BackoffStarted: dict(
            kind="tool_concurrency", delay_s=2.0, retry=1, max_retries=5, deadline=0.0
        ),
        ev.LoopFinished: dict(outcome="complete", exit_code=0),
    }
    for cls, fields in samples.items():
        assert format_text(cls(**fields))
    text = format_text(ev.BackoffStarted(**samples[ev.BackoffStarted]))
    assert "waiting 2 s (retry 1/5)" in text


def test_tokens_never_reach_either_format():
    event = ev.SessionError(session=1, error_kind="auth", message=f"bad token {CANARY}")
    assert CANARY not in format_text(event)
    assert CANARY not in format_json(event)


def test_a_cli_retry_without_an_error_name_or_count_reads_plainly():
    def retry(**fields):
        base = dict(session=1, attempt=0, max_retries=0, delay_s=1.5, deadline=0.0)
        return format_text(ev.ApiRetry(**{**base, **fields}))

    plain = retry(error="unknown", error_status=None)
    assert "CLI retrying the request in 1.5 s" in plain and "unknown" not in plain
    assert "(0/0)" not in plain
    assert "retrying 529 in 1.5 s (2/10)" in retry(
        error=None, error_status=529, attempt=2, max_retries=10
    )


def test_a_wait_for_a_usage_limit_and_a_window_read_in_words(utc):
    from agent_tui.engine.events.quota import QuotaStatus

    resets_at = 1_796_158_200.0  # 20:50 UTC
    wait = ev.BackoffStarted(
        kind="rate_limit",
        delay_s=7230.0,
        retry=0,
        max_retries=0,
        deadline=8230.0,
        resets_at=resets_at,
    )
    assert format_text(wait).endswith("waiting   2 h 01 min: the usage limit resets at 20:50")
    later = ev.BackoffStarted(**{**wait.as_dict(), "remaining_s": 1800.0})
    assert format_text(later).endswith("waiting   the last 30 min: the usage limit resets at 20:50")
    assert json.loads(format_json(wait))["resets_at"] == resets_at
    quota = ev.QuotaUpdated(
        profile="work",
        status=QuotaStatus.WARNING,
        window="five_hour",
        utilization=0.91,
        resets_at=resets_at,
        ts=resets_at - 3600,
    )
    assert format_text(quota).endswith("quota     work: 5h 91% · resets 20:50")
    data = json.loads(format_json(quota))
    assert (data["type"], data["status"], data["utilization"]) == ("quota", "allowed_warning", 0.91)
    allowed = ev.QuotaUpdated(**{**quota.as_dict(), "status": QuotaStatus.ALLOWED})
    assert format_text(allowed) is None  # a window with room left is not worth a line


async def test_headless_says_how_the_run_is_contained_and_warns_on_stderr(capsys):
    import io

    from agent_tui.headless import run_headless

    sandboxed = ev.ContainmentStatus(mode="auto", sandboxed=True, home_readable=("~/.pyenv",))
    loose = ev.ContainmentStatus(mode="auto", sandboxed=False, missing=("socat not installed",))
    assert "sandbox   sandboxed: Bash and its children write only inside the project" in (
        format_text(sandboxed) or ""
    )
    assert "unreadable; of your home, sessions read only ~/.pyenv" in (format_text(sandboxed) or "")
    assert json.loads(format_json(loose))["missing"] == ["socat not installed"]

    class Loop:
        def __init__(self, sink):
            self.sink = sink

        async def run(self):
            await self.sink(loose)
            return 0

        def stop(self, reason):
            pass

    out = io.StringIO()
    assert await run_headless(Loop, "jsonl", out) == 0
    assert json.loads(out.getvalue())["type"] == "containment"
    err = capsys.readouterr().err
    assert "agent-tui: UNSANDBOXED (socat not installed)" in err and "not a boundary" in err


@pytest.mark.parametrize(
    ("feature", "line"),
    [
        ("greeter", "plan      greeter: 0/1 subtasks completed"),
        ("", "plan      0/1 subtasks completed"),
    ],
)
def test_a_plan_line_names_its_feature_when_it_has_one(feature, line):
    event = ev.PlanLoaded(spec_dir="s", feature=feature, phases=(), total=1, completed=0)
    assert format_text(event).endswith(line)


def test_with_lanes_each_sessions_line_names_its_lane_and_the_queue_is_told():
    started = ev.SessionStarted(
        session=3, kind="coder", subtask_id="2.1", profile="a", attempt=1, model=None,
        transcript="t.jsonl", lane=2, ts=0.0,
    )  # fmt: skip
    assert " L2 session   #3 coder subtask 2.1" in format_text(started, lanes=True)
    assert " L2 " not in format_text(started)  # one lane: as before
    ended = lev.MergeEnded(
        subtask_id="2.1", outcome=MergeOutcome.CONFLICT, message="conflicts in a.py", ts=0.0
    )
    assert format_text(ended, lanes=True).endswith("not merged 2.1 (conflict): conflicts in a.py")
    merged = lev.MergeEnded(subtask_id="1.1", outcome=MergeOutcome.MERGED, commit="c0ffee" * 7)
    assert format_text(merged).endswith("merged    1.1 as c0ffeec0ffee")
    both = ("1.1", "2.1")
    together = lev.MergeStarted(subtask_id="2.1", checks=both, batch=both)
    assert format_text(together).endswith("merging   2.1 (with 1.1): checks 1.1, 2.1")
    alone = lev.MergeStarted(subtask_id="2.1", checks=())
    assert format_text(alone).endswith("merging   2.1: its lane checked this very tree")
    stacked = lev.LaneBusy(lane=2, subtask_id="1.2", on="1.1")
    assert format_text(stacked).endswith("lane      2 takes 1.2, on 1.1's work (not merged yet)")
    assert format_text(lev.LaneBusy(lane=2, subtask_id="1.2")).endswith("lane      2 takes 1.2")
    back = lev.MergeEnded(subtask_id="1.2", outcome=MergeOutcome.UNMERGED_BASE, message="why")
    assert format_text(back).endswith("not merged 1.2 (unmerged_base): why")


def test_a_home_with_no_toolchain_found_reads_as_unreadable():
    sandboxed = ev.ContainmentStatus(mode="auto", sandboxed=True)
    assert (format_text(sandboxed) or "").endswith(
        "credential stores unreadable; your home is unreadable to sessions"
    )
