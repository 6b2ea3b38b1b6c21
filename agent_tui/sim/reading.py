"""What the sim reads from a request the CLI sends: the prompt, its fields, tool results."""

from __future__ import annotations

import re
from typing import Any

PROMPT_FIELDS = {
    "project": r"Project directory: (.+)",
    "spec_dir": r"Spec directory: (.+)",
    "plan": r"Plan file: (.+)",
}


def prompt_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    if not messages:
        return ""
    content = messages[0].get("content")
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))


def tool_results(body: dict[str, Any]) -> tuple[str, ...]:
    found = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                inner = block.get("content")
                if isinstance(inner, list):
                    inner = " ".join(str(b.get("text", "")) for b in inner if isinstance(b, dict))
                found.append(str(inner or ""))
    return tuple(found)


def prompt_fields(prompt: str) -> dict[str, str]:
    fields = {}
    for name, pattern in PROMPT_FIELDS.items():
        found = re.search(pattern, prompt)
        if found:
            fields[name] = found.group(1).strip()
    return fields
