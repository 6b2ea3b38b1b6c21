"""One assistant message as the Messages API streams it (server-sent events), or as it
answers a request without streaming (one JSON object)."""

from __future__ import annotations

import json
from typing import Any

ToolUse = tuple[str, str, dict[str, Any]]
"""A tool call: its id, the tool's name and its input."""
TOOL_USE_TOKENS = 20
"""Output tokens counted for each tool call."""


def message_events(
    message_id: str,
    model: str,
    prompt_tokens: int,
    text_chunks: list[str] | None,
    tools: list[ToolUse],
) -> list[bytes]:
    """The events of one message: a text block (when ``text_chunks`` is not None, one delta
    per chunk), then one ``tool_use`` block per call, then the stop reason and usage."""
    events = [_message_start(message_id, model, prompt_tokens)]
    index = output_tokens = 0
    if text_chunks is not None:
        events.extend(_text_block(index, text_chunks))
        output_tokens += len(text_chunks)
        index += 1
    for tool_id, name, tool_input in tools:
        events.extend(_tool_block(index, tool_id, name, tool_input))
        output_tokens += TOOL_USE_TOKENS
        index += 1
    stop_reason = "tool_use" if tools else "end_turn"
    events.append(
        sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
    )
    events.append(sse("message_stop", {"type": "message_stop"}))
    return events


def message_json(
    message_id: str,
    model: str,
    prompt_tokens: int,
    text_chunks: list[str] | None,
    tools: list[ToolUse],
) -> dict[str, Any]:
    """The same message as ``message_events`` streams, whole, with the same usage."""
    content: list[dict[str, Any]] = []
    output_tokens = 0
    if text_chunks is not None:
        content.append({"type": "text", "text": "".join(text_chunks)})
        output_tokens += len(text_chunks)
    for tool_id, name, tool_input in tools:
        content.append({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})
        output_tokens += TOOL_USE_TOKENS
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if tools else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": prompt_tokens, "output_tokens": output_tokens},
    }


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _message_start(message_id: str, model: str, prompt_tokens: int) -> bytes:
    message = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": prompt_tokens, "output_tokens": 1},
    }
    return sse("message_start", {"type": "message_start", "message": message})


def _text_block(index: int, chunks: list[str]) -> list[bytes]:
    """A text block streamed one chunk (a word and its spacing) per delta."""
    start = {"type": "text", "text": ""}
    events = [
        sse(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
    ]
    events.extend(
        sse(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "text_delta", "text": chunk},
            },
        )
        for chunk in chunks
    )
    events.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def _tool_block(index: int, tool_id: str, name: str, tool_input: dict[str, Any]) -> list[bytes]:
    """A ``tool_use`` block whose input arrives as one JSON delta."""
    block = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
    delta = {"type": "input_json_delta", "partial_json": json.dumps(tool_input)}
    return [
        sse(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": block},
        ),
        sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}),
        sse("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]
