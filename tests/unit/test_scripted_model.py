"""The check sessions' scripted model: one Bash call per check prompt, then "Done.", decided
by the request and what agent-tui registered; served on the event loop."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from agent_tui.engine.checks.scripted_model import (
    PROMPT,
    ScriptedModel,
    new_nonce,
    tool_use_id,
)
from tests.loop_watch import no_slow_callbacks

ANSWER_S = 10.0
"""Bounds every exchange: a server that does not answer fails the test, not hangs it."""


async def post(
    model: ScriptedModel, body: dict[str, Any], *, key: str | None = None
) -> tuple[int, bytes]:
    """One request on a connection of its own: the status and the body."""
    return await asyncio.wait_for(_post(model, body, key), ANSWER_S)


async def _post(model: ScriptedModel, body: dict[str, Any], key: str | None) -> tuple[int, bytes]:
    host, port = model.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    data = json.dumps(body).encode()
    writer.write(
        b"POST /v1/messages?beta=true HTTP/1.1\r\nhost: x\r\n"
        + f"x-api-key: {model.api_key if key is None else key}\r\n".encode()
        + f"content-length: {len(data)}\r\nconnection: close\r\n\r\n".encode()
        + data
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    payload = await reader.readexactly(length)
    writer.close()
    return int(head.split()[1]), payload


def events(payload: bytes) -> list[dict[str, Any]]:
    return [
        json.loads(line[len(b"data: ") :])
        for line in payload.splitlines()
        if line.startswith(b"data: ")
    ]


def tool_uses(payload: bytes) -> list[dict[str, Any]]:
    starts = [e["content_block"] for e in events(payload) if e["type"] == "content_block_start"]
    calls = [b for b in starts if b["type"] == "tool_use"]
    deltas = [
        e["delta"]["partial_json"]
        for e in events(payload)
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    ]
    return [{**c, "input": json.loads("".join(deltas))} for c in calls]


def stop_reason(payload: bytes) -> str:
    return next(e["delta"]["stop_reason"] for e in events(payload) if e["type"] == "message_delta")


BASH = [{"name": "Bash", "input_schema": {}}]


@pytest.fixture
async def model():
    served = await ScriptedModel().start()
    yield served
    await served.close()


async def test_a_check_prompt_gets_its_registered_bash_call_and_its_result_ends_the_turn(model):
    nonce = new_nonce()
    model.expect(nonce, {"command": "pytest -q"})
    prompt = {"role": "user", "content": [{"type": "text", "text": PROMPT.format(nonce=nonce)}]}
    system = {"role": "system", "content": [{"type": "text", "text": "## Bash sandbox…"}]}
    status, payload = await post(model, {"tools": BASH, "messages": [prompt, system]})

    assert status == 200 and stop_reason(payload) == "tool_use"
    [call] = tool_uses(payload)
    assert call["name"] == "Bash" and call["id"] == tool_use_id(nonce)
    assert call["input"] == {"command": "pytest -q"}

    called = {"role": "assistant", "content": [call]}
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"]}]}
    _, after = await post(model, {"tools": BASH, "messages": [prompt, called, result]})
    assert tool_uses(after) == [] and stop_reason(after) == "end_turn"


async def test_the_next_check_is_asked_after_the_last_result_even_in_one_joined_message(model):
    first, second = new_nonce(), new_nonce()
    model.expect(first, {"command": "true"})
    model.expect(second, {"command": "make test"})
    joined = {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": tool_use_id(first), "content": "0"},
            {"type": "text", "text": PROMPT.format(nonce=second)},
        ],
    }
    _, payload = await post(model, {"tools": BASH, "messages": [joined]})
    assert [c["input"]["command"] for c in tool_uses(payload)] == ["make test"]


async def test_replies_have_ids_of_their_own_so_the_cli_keeps_each_message(model):
    nonce = new_nonce()
    model.expect(nonce, {"command": "true"})
    ask = {"tools": BASH, "messages": [{"role": "user", "content": PROMPT.format(nonce=nonce)}]}
    ids = set()
    for _ in range(3):
        _, payload = await post(model, ask)
        ids.add(events(payload)[0]["message"]["id"])
    assert len(ids) == 3


async def test_nothing_runs_for_a_check_not_registered_or_forgotten_nor_without_the_key(model):
    nonce = new_nonce()
    ask = {"tools": BASH, "messages": [{"role": "user", "content": PROMPT.format(nonce=nonce)}]}
    _, payload = await post(model, ask)
    assert tool_uses(payload) == []  # never registered

    model.expect(nonce, {"command": "true"})
    model.forget(nonce)
    _, payload = await post(model, ask)
    assert tool_uses(payload) == []

    model.expect(nonce, {"command": "true"})
    status, payload = await post(model, ask, key="sk-ant-api03-someone-else")
    assert status == 401 and b"authentication_error" in payload
    without_tools = {"messages": ask["messages"]}  # a side request of the CLI's
    _, payload = await post(model, without_tools)
    assert tool_uses(payload) == []


async def test_closing_ends_a_kept_alive_connection_at_once(model):
    host, port = model.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    await model.close()
    assert await asyncio.wait_for(reader.read(), ANSWER_S) == b""  # closed by the server, not idle
    writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection(host, int(port))


async def test_starting_answering_and_closing_never_stall_the_event_loop():
    nonce = new_nonce()
    ask = {"tools": BASH, "messages": [{"role": "user", "content": PROMPT.format(nonce=nonce)}]}

    async def cycle() -> None:
        served = await ScriptedModel().start()
        served.expect(nonce, {"command": "true"})
        host, port = served.base_url.removeprefix("http://").split(":")
        _, kept_open = await asyncio.open_connection(host, int(port))
        assert (await post(served, ask))[0] == 200
        await served.close()
        kept_open.close()

    asyncio.get_running_loop().set_debug(True)
    await cycle()  # debug mode reads the sources it quotes once, at first
    with no_slow_callbacks():
        for _ in range(20):  # a shutdown that waits on a thread shows within a few
            await cycle()
