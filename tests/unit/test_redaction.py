"""Secrets never reach the screen unmasked: each token shape, idempotence, and a canary."""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import urllib.parse

import pytest

from agent_tui.auth.credentials import resolve, session_env
from agent_tui.auth.keychain import service_name
from agent_tui.auth.profiles import Profile
from agent_tui.auth.redaction import CREDENTIAL_ENV, mask_token, redact, register_secret
from agent_tui.cli.profiles import run_profiles
from agent_tui.cli.profiles_args import add_profiles_parser
from agent_tui.engine.agents.claude.summary import summarize_result, summarize_tool

CANARY = "sk-ant-oat01-CANARY7777canary7777CANARY7777zzZZ"
CANARY_MASKED = "sk-ant-oat01-…zzZZ"


@pytest.mark.parametrize(
    ("token", "masked"),
    [
        (CANARY, CANARY_MASKED),
        ("sk-ant-api03-abcdefghijkLMNO", "sk-ant-api03-…LMNO"),
        ("sk-ant-ort01-refreshrefreshR3fr", "sk-ant-ort01-…R3fr"),
        ("sk-ant-sid01-sessionsession9x9Z", "sk-ant-sid01-…9x9Z"),
        ("sk-ant-api03-short", "sk-ant-api03-…"),
        ("sk-ant-nokindnokindnokWXYZ", "sk-ant-…WXYZ"),
        ("proxy-token-0123456789", "…6789"),
        ("tiny", "…"),
        ("", ""),
    ],
)
def test_mask_token_keeps_the_kind_and_at_most_four_chars(token, masked):
    assert mask_token(token) == masked
    assert mask_token(masked) == masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key sk-ant-api03-abcdefghijkLMNO end", "key sk-ant-api03-…LMNO end"),
        (f"oauth {CANARY}.", f"oauth {CANARY_MASKED}."),
        ("refresh=sk-ant-ort01-RRRRRRRRRRRRRRRRabcd", "refresh=sk-ant-ort01-…abcd"),
        ("Authorization: Bearer abcdefghijklmnop", "Authorization: Bearer …mnop"),
        ("authorization: bearer eyJhbGciOi.payload.sig9", "authorization: bearer …sig9"),
        (f"Authorization: Bearer {CANARY}", f"Authorization: Bearer {CANARY_MASKED}"),
        ("x-api-key: sim-key-0123456789", "x-api-key: …6789"),
        (
            '{"accessToken": "plainsecretvalue1", "refreshToken":"refreshsecret12345", "x": 1}',
            '{"accessToken": "…lue1", "refreshToken":"…2345", "x": 1}',
        ),
        ("{'accessToken': 'plainsecretvalue1'}", "{'accessToken': '…lue1'}"),
        ('{\\"accessToken\\": \\"escapedsecret12345\\"}', '{\\"accessToken\\": \\"…2345\\"}'),
        (
            "{'ANTHROPIC_API_KEY': 'sim-key-0123456789', 'CLAUDE_CODE_OAUTH_TOKEN': ''}",
            "{'ANTHROPIC_API_KEY': '…6789', 'CLAUDE_CODE_OAUTH_TOKEN': ''}",
        ),
        (
            "CLAUDE_CODE_OAUTH_TOKEN=some-test-token-123 ANTHROPIC_AUTH_TOKEN='xyzxyzxyzxyzxyz'",
            "CLAUDE_CODE_OAUTH_TOKEN=…-123 ANTHROPIC_AUTH_TOKEN='…zxyz'",
        ),
    ],
)
def test_redact_masks_each_token_shape_idempotently(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "path /home/alice/.claude-work/.credentials.json",
        "keychain 'Claude Code-credentials-be865d75' (alice)",
        "Bearer tokens are sent in a header",
        "CLAUDE_CODE_OAUTH_TOKEN is set in this environment",
        "sk-ant- alone",
    ],
)
def test_redact_leaves_ordinary_text_alone(text):
    assert redact(text) == text


def test_a_whole_credentials_file_is_masked():
    text = json.dumps(
        {"claudeAiOauth": {"accessToken": CANARY, "refreshToken": "sk-ant-ort01-" + "r" * 30}},
        indent=2,
    )
    masked = redact(text)
    assert CANARY not in masked and "r" * 30 not in masked
    assert redact(masked) == masked


@pytest.fixture
def canary_profile(tmp_path):
    directory = tmp_path / "canary"
    directory.mkdir()
    (directory / ".credentials.json").write_text(
        json.dumps(
            {
                "claudeAiOauth": {
                    "accessToken": CANARY,
                    "subscriptionType": "max",
                    "scopes": ["user:inference"],
                }
            }
        )
    )
    return Profile(name="canary", config_dir=str(directory), token_env="CANARY_TOKEN")


@pytest.mark.parametrize("source", ["env", "keychain", "file"])
def test_the_canary_never_shows_in_a_resolution_repr(canary_profile, memory_keyring, source):
    env = {"HOME": "/nonexistent", "USER": "alice", "ANTHROPIC_API_KEY": CANARY}
    if source == "env":
        env["CANARY_TOKEN"] = CANARY
    if source == "keychain":
        secret = json.dumps({"claudeAiOauth": {"accessToken": CANARY}})
        memory_keyring.set_password(service_name(canary_profile.config_dir), "alice", secret)
    resolution = resolve(canary_profile, environ=env)
    assert resolution.usable and resolution.credential.source == source
    for text in (repr(resolution), str(resolution), repr(resolution.credential)):
        assert CANARY not in text
        assert CANARY_MASKED in text


def test_the_canary_never_shows_in_problems(canary_profile):
    path = os.path.join(canary_profile.config_dir, ".credentials.json")
    with open(path, "w") as handle:
        handle.write(f'{{"claudeAiOauth": {{"accessToken": "{CANARY}"')
    resolution = resolve(canary_profile, environ={"USER": "alice"})
    assert not resolution.usable
    assert CANARY not in repr(resolution)


def test_the_canary_never_shows_in_show_or_list_output(canary_profile, monkeypatch):
    monkeypatch.setenv("USER", "alice")
    for name in CREDENTIAL_ENV:
        monkeypatch.setenv(name, CANARY)
    root = argparse.ArgumentParser(prog="agent-tui")
    add_profiles_parser(root.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    for argv in (
        ["add", "canary", "--config-dir", canary_profile.config_dir],
        ["show", "canary"],
        ["list"],
    ):
        assert run_profiles(root.parse_args(["profiles", *argv]), out=out, err=err) == 0
    text = out.getvalue() + err.getvalue()
    assert CANARY not in text
    assert f"token:       {CANARY_MASKED}" in text
    assert "ANTHROPIC_API_KEY is set in this environment" in text


def test_session_env_holds_the_token_but_its_redacted_form_does_not(canary_profile):
    env = {"USER": "alice", "CANARY_TOKEN": CANARY}
    session = session_env(canary_profile, resolve(canary_profile, environ=env), env)
    assert session["CLAUDE_CODE_OAUTH_TOKEN"] == CANARY
    assert CANARY not in redact(repr(session)) and CANARY not in redact(str(session))


def test_a_token_followed_by_an_ellipsis_is_still_masked():
    assert CANARY not in redact(f"{CANARY}…")
    assert redact(f"Authorization: Bearer {CANARY}…").count("CANARY") == 0
    assert redact("Bearer abcdefghijklmnopqrst…") == "Bearer …qrst…"


def test_summaries_are_masked_before_they_are_cut():
    token = "sk-ant-oat01-" + "A1b2C3d4" * 12  # 109 characters
    command = f"echo {token}"
    summary = summarize_tool("Bash", {"command": command})
    result = summarize_result([{"type": "text", "text": "  x" * 10 + token}])
    for text in (summary, result):
        assert "A1b2C3d4A1b2" not in text and len(text) <= 100
    assert summary == f"echo {mask_token(token)}"


def test_a_registered_secret_is_masked_in_every_form():
    secret = "plain-opaque-secret-value-0123456789"
    register_secret(secret)
    blob = base64.b64encode(json.dumps({"token": secret}).encode()).decode()
    texts = [
        f"value {secret} end",
        f"url ?t={urllib.parse.quote_plus(secret + ' ')}",
        blob,
        base64.urlsafe_b64encode(b"xy" + secret.encode()).decode(),
    ]
    for lead in range(3):
        texts.append(base64.b64encode(b"\0" * lead + secret.encode() + b"tail").decode())
    for text in texts:
        masked = redact(text)
        assert secret not in masked
        assert masked == redact(masked)
        decoded = _decodable(masked)
        assert secret.encode() not in decoded
    assert redact(f"value {secret} end") == "value …6789 end"


def test_secrets_too_short_to_be_secrets_are_not_registered():
    register_secret("short")
    register_secret("")
    register_secret(None)
    assert redact("a short word") == "a short word"


def test_resolving_a_credential_registers_its_tokens(tmp_path):
    directory = tmp_path / "cfg"
    directory.mkdir()
    access, refresh = "opaque-access-token-abcdefgh1234", "opaque-refresh-token-ijklmnop5678"
    (directory / ".credentials.json").write_text(
        json.dumps(
            {
                "claudeAiOauth": {
                    "accessToken": access,
                    "refreshToken": refresh,
                    "scopes": ["user:inference"],
                }
            }
        )
    )
    profile = Profile(name="p", config_dir=str(directory))
    assert resolve(profile, environ={"USER": "alice"}).usable
    masked = redact(f"{access} {refresh}")
    assert access not in masked and refresh not in masked


def _decodable(text: str) -> bytes:
    """Whatever base64 inside ``text`` decodes to, at any of its alignments."""
    out = b""
    cleaned = "".join(c for c in text if c.isalnum() or c in "+/-_")
    for start in range(4):
        chunk = cleaned[start:]
        chunk = chunk[: len(chunk) // 4 * 4]
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            with contextlib.suppress(ValueError):
                out += decode(chunk)
    return out


def test_a_registered_secret_is_masked_reversed_and_in_hex():
    secret = "sk-ant-oat01-CANARYhexRev0123456789abcd"
    register_secret(secret)
    raw = secret.encode()
    for text in (
        f"x = '{secret[::-1]}'",
        f"blob {raw.hex()} end",
        f"BLOB{raw.hex().upper()}",
        "0x" + (b"pre" + raw + b"post").hex(),
    ):
        masked = redact(text)
        assert "CANARY" not in masked and secret[::-1] not in masked
        assert raw.hex() not in masked.lower()
        assert masked == redact(masked)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("t=ghp_" + "A1b2C3d4e5" * 3 + "XYZ123", "t=ghp_…Z123"),
        ("github_pat_11AB" + "c" * 40 + "wxyz", "github_pat_…wxyz"),
        ("key AKIAIOSFODNN7EXAMPLE.", "key AKIA…."),
        ("ASIAY34FZKBOKMUTVV7A,", "ASIA…,"),
        ("Stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Stripe sk_live_…p7dc"),
        ("rk_test_51H8abcdefghij", "rk_test_…"),
        ("whsec_" + "q" * 32, "whsec_…qqqq"),
        ("SLACK=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrSt", "SLACK=xoxb-…QrSt"),
        ("xapp-1-A012BCDEF-1234567890-abcdef", "xapp-…cdef"),
        (
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/…XXXX",
        ),
        (
            'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
            'aws_secret_access_key = "…"',
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n"
            "-----END OPENSSH PRIVATE KEY-----\nnext line",
            "-----BEGIN OPENSSH PRIVATE KEY-----…\nnext line",
        ),
        (
            "key: -----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA",
            "key: -----BEGIN RSA PRIVATE KEY-----…",
        ),
    ],
)
def test_other_services_tokens_and_private_keys_are_masked_by_their_shape(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ASIAPACIFIC_REGION_NAME",
        "the task_live_view and sk_test_short",
        "-----BEGIN PUBLIC KEY-----",
        "github_pat_ is a prefix",
        "xoxb- alone",
    ],
)
def test_a_token_format_leaves_lookalike_text_alone(text):
    assert redact(text) == text
