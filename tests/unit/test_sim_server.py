"""The scripted Messages API, spoken to over HTTP the way the CLI speaks to it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from pydantic import ValidationError

from agent_tui.sim.scenario import Scenario
from agent_tui.sim.server import SimServer, status_edit


def post(sim: SimServer, body: dict, session: str = "s1", token: str = "tok-a") -> tuple[int, str]:
    request = urllib.request.Request(
        sim.base_url + "/v1/messages?beta=true",
        data=json.dumps(body).encode(),
        headers={
            "content-type": "application/json",
            "authorization": f"Bearer {token}",
            "x-claude-code-session-id": session,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def events_of(sse: str) -> list[dict]:
    return [json.loads(line[6:]) for line in sse.splitlines() if line.startswith("data: ")]


def streamed_text(sse: str) -> str:
    return "".join(
        e["delta"]["text"]
        for e in events_of(sse)
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )


def conversation(prompt: str, assistant_turns: int = 0) -> dict:
    messages = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
    for _ in range(assistant_turns):
        messages += [
            {"role": "assistant", "content": [{"type": "text", "text": "..."}]},
            {"role": "user", "content": [{"type": "text", "text": "result"}]},
        ]
    return {
        "model": "claude-test",
        "messages": messages,
        "tools": [{"name": "Bash"}],
        "stream": True,
    }


SCENARIO = Scenario.model_validate(
    {
        "scripts": [
            {
                "match": r"Subtask ID: 1\.1\b",
                "sessions": [
                    [{"error": "tool_concurrency"}],
                    [
                        {
                            "text": "Writing {project}/a.txt",
                            "tools": [
                                {
                                    "name": "Write",
                                    "input": {"file_path": "{project}/a.txt", "content": "x"},
                                }
                            ],
                        },
                        {"text": "Done."},
                    ],
                ],
            }
        ]
    }
)
PROMPT = "Subtask ID: 1.1\nProject directory: /work/p\nPlan file: /work/p/plan.json\n"


def test_streams_text_and_tool_use_then_errors_by_session():
    with SimServer(SCENARIO) as sim:
        status, body = post(sim, conversation(PROMPT), session="first")
        assert status == 400
        error = json.loads(body)["error"]
        assert "`tool_use` ids were found without `tool_result` blocks" in error["message"]
        # A retry of the same request in the same session gets the same answer.
        assert post(sim, conversation(PROMPT), session="first")[0] == 400

        status, body = post(sim, conversation(PROMPT), session="second", token="tok-b")
        assert status == 200
        events = events_of(body)
        assert events[0]["type"] == "message_start"
        assert streamed_text(body) == "Writing /work/p/a.txt"
        tool_json = next(
            e["delta"]["partial_json"]
            for e in events
            if e.get("delta", {}).get("type") == "input_json_delta"
        )
        assert json.loads(tool_json) == {"file_path": "/work/p/a.txt", "content": "x"}
        assert events[-2]["delta"]["stop_reason"] == "tool_use"

        status, body = post(
            sim, conversation(PROMPT, assistant_turns=1), session="second", token="tok-b"
        )
        assert events_of(body)[-2]["delta"]["stop_reason"] == "end_turn"

    assert [(r.session_id, r.status, r.turn) for r in sim.requests] == [
        ("first", 400, 0),
        ("first", 400, 0),
        ("second", 200, 0),
        ("second", 200, 1),
    ]
    assert [r.bearer for r in sim.requests] == ["tok-a", "tok-a", "tok-b", "tok-b"]


def test_unscripted_requests_get_the_fallback_reply():
    with SimServer(SCENARIO) as sim:
        status, body = post(sim, conversation("something else"))
    assert status == 200
    assert "Nothing scripted" in streamed_text(body)


def test_status_edit_targets_only_the_named_subtask(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "phases": [
                    {
                        "id": "1",
                        "subtasks": [
                            {"id": "1.1", "status": "pending"},
                            {"id": "1.2", "status": "pending"},
                        ],
                    }
                ]
            },
            indent=2,
        )
    )
    edit = status_edit(str(plan), "1.2", "completed")
    text = plan.read_text()
    assert text.count(edit["old_string"]) == 1
    updated = json.loads(text.replace(edit["old_string"], edit["new_string"]))
    assert [s["status"] for s in updated["phases"][0]["subtasks"]] == ["pending", "completed"]


def test_a_step_must_be_exactly_one_kind():
    with pytest.raises(ValidationError):
        Scenario.model_validate(
            {"scripts": [{"match": "x", "sessions": [[{"text": "a", "error": "auth"}]]}]}
        )
    with pytest.raises(ValidationError):
        Scenario.model_validate({"scripts": [{"match": "x", "sessions": []}]})


def test_bundled_demo_scenario_covers_the_sample_plan():
    from importlib import resources

    demo = Scenario.bundled("demo")
    plan = json.loads(
        resources.files("agent_tui.sim")
        .joinpath("sample", "spec", "implementation_plan.json")
        .read_text()
    )
    ids = [s["id"] for p in plan["phases"] for s in p["subtasks"]]
    assert all(demo.script_for(f"Subtask ID: {sid}\n") is not None for sid in ids)
    burst = demo.script_for("Subtask ID: 2.1\n")
    assert any(step.error == "tool_concurrency" for step in burst.sessions[0])


def test_a_client_that_hangs_up_mid_stream_is_no_traceback_but_a_sim_bug_is(capsys):
    # Found piping `agent-tui demo --headless` into head: the CLI stopped mid-stream and the
    # sim printed a ConnectionResetError traceback over the run's last lines.
    sim = SimServer(Scenario())
    try:
        for error in (ConnectionResetError(104, "reset by peer"), BrokenPipeError(32, "pipe")):
            try:
                raise error
            except ConnectionError:
                sim._httpd.handle_error(None, ("127.0.0.1", 40000))
        try:
            raise ValueError("a step the sim cannot serve")
        except ValueError:
            sim._httpd.handle_error(None, ("127.0.0.1", 40000))
    finally:
        sim._httpd.server_close()
    err = capsys.readouterr().err
    assert "ConnectionResetError" not in err and "BrokenPipeError" not in err
    assert "ValueError: a step the sim cannot serve" in err


def reply_headers(sim: SimServer, body: dict, session: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(
        sim.base_url + "/v1/messages?beta=true",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "x-claude-code-session-id": session},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_a_scenario_sends_the_unified_rate_limit_headers_on_success_and_on_429():
    import time

    scenario = Scenario.model_validate(
        {
            "quota": {"status": "allowed_warning", "utilization": 0.91, "resets_in_s": 600},
            "scripts": [
                {
                    "match": "limited",
                    "sessions": [
                        [{"error": "rate_limit", "quota": {"status": "rejected", "utilization": 1}}]
                    ],
                },
                {"match": "fine", "sessions": [[{"text": "ok"}]]},
            ],
        }
    )
    before = time.time()
    with SimServer(scenario) as sim:
        ok_status, ok = reply_headers(sim, conversation("fine"), "s1")
        limited_status, limited = reply_headers(sim, conversation("limited"), "s2")
    assert ok_status == 200 and limited_status == 429
    assert ok["anthropic-ratelimit-unified-status"] == "allowed_warning"
    assert ok["anthropic-ratelimit-unified-representative-claim"] == "five_hour"
    assert ok["anthropic-ratelimit-unified-5h-utilization"] == "0.91"
    assert ok["anthropic-ratelimit-unified-5h-surpassed-threshold"] == "0.9"
    reset = int(ok["anthropic-ratelimit-unified-reset"])
    assert before + 600 <= reset <= time.time() + 601
    assert ok["anthropic-ratelimit-unified-5h-reset"] == str(reset)
    assert limited["anthropic-ratelimit-unified-status"] == "rejected"
    assert limited["anthropic-ratelimit-unified-5h-utilization"] == "1"
    assert "anthropic-ratelimit-unified-5h-surpassed-threshold" not in limited
    assert int(limited["anthropic-ratelimit-unified-reset"]) >= before + 3600
    assert [r.prompt for r in sim.requests] == ["fine", "limited"]


def test_a_reply_without_quota_sends_no_rate_limit_headers():
    with SimServer(SCENARIO) as sim:
        _, headers = reply_headers(sim, conversation("anything"), "s1")
    assert not [name for name in headers if "ratelimit" in name.lower()]


CREDIT_SCENARIO = Scenario.model_validate(
    {
        "scripts": [
            {
                "match": "credits",
                "sessions": [
                    [
                        {
                            "fault": "credits_ran_out",
                            "fallback": "out_of_credits",
                            "quota": {
                                "status": "rejected",
                                "window": "overage",
                                "utilization": 1,
                                "overage_status": "rejected",
                                "overage_disabled_reason": "out_of_credits",
                            },
                        }
                    ]
                ],
            },
            {"match": "gateway", "sessions": [[{"error": "spend_cap"}]]},
            {"match": "plain", "sessions": [[{"text": "Hello there."}]]},
        ]
    }
)


def test_a_request_without_streaming_gets_the_reply_as_json():
    with SimServer(CREDIT_SCENARIO) as sim:
        status, body = post(sim, {**conversation("plain"), "stream": False})
    reply = json.loads(body)
    assert status == 200 and reply["type"] == "message"
    assert reply["content"] == [{"type": "text", "text": "Hello there."}]
    assert reply["usage"]["input_tokens"] > 0 and reply["stop_reason"] == "end_turn"
    assert [r.streamed for r in sim.requests] == [False]


def test_credits_running_out_mid_stream_then_the_retry_gets_the_fallback():
    with SimServer(CREDIT_SCENARIO) as sim:
        status, body = post(sim, conversation("credits"))
        assert status == 200
        events = events_of(body)
        assert [e["type"] for e in events] == [
            "message_start", "content_block_start", "content_block_delta", "error",
        ]  # fmt: skip
        assert events[-1]["error"]["details"] == {"error_code": "extra_usage_out_of_credits"}
        status, headers = reply_headers(sim, {**conversation("credits"), "stream": False}, "s1")
    assert status == 429
    assert headers["anthropic-ratelimit-unified-representative-claim"] == "overage"
    assert headers["anthropic-ratelimit-unified-overage-disabled-reason"] == "out_of_credits"
    assert [r.streamed for r in sim.requests] == [True, False]


def test_an_error_reply_carries_its_details_and_headers():
    with SimServer(CREDIT_SCENARIO) as sim:
        status, headers = reply_headers(sim, conversation("gateway"), "s1")
        _, body = post(sim, conversation("gateway"), session="s2")
    assert status == 429 and headers["x-should-retry"] == "false"
    assert json.loads(body)["error"]["type"] == "billing_error"
