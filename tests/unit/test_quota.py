"""Usage windows per profile: what each state means, how it reads, and the file it lives in."""

from __future__ import annotations

import json

import pytest

from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.events.quota import Quota, QuotaStatus, quota_text
from agent_tui.engine.events.timefmt import clock_time, countdown, duration

S = QuotaStatus
NOW = 1_796_148_000.0  # 2026-12-01 18:00 UTC
AT_2050 = NOW + 2 * 3600 + 50 * 60


@pytest.mark.parametrize(
    ("quota", "exhausted_until", "used"),
    [
        (Quota(status=S.REJECTED, window="five_hour", resets_at=AT_2050), AT_2050, 1.0),
        (Quota(status=S.REJECTED, window="five_hour", resets_at=NOW - 1), None, 0.0),
        (Quota(status=S.REJECTED), None, 1.0),
        (Quota(status=S.WARNING, utilization=0.91, resets_at=AT_2050), None, 0.91),
        (Quota(status=S.WARNING, utilization=0.91, resets_at=NOW - 60), None, 0.0),
        (Quota(status=S.ALLOWED, resets_at=AT_2050), None, 0.0),
    ],
)
def test_a_window_is_exhausted_only_until_its_known_reset(quota, exhausted_until, used):
    assert quota.exhausted_until(NOW) == exhausted_until
    assert quota.used(NOW) == used


@pytest.mark.parametrize(
    ("quota", "text"),
    [
        (None, "usage unknown"),
        (Quota(status=S.WARNING, window="five_hour", utilization=0.915, resets_at=AT_2050),
         "5h 91% · resets 20:50"),
        (Quota(status=S.REJECTED, window="five_hour", resets_at=AT_2050),
         "5h limit reached · resets 20:50"),
        (Quota(status=S.REJECTED, window="seven_day", resets_at=NOW + 3 * 86400),
         "7d limit reached · resets Fri 04 Dec 18:00"),
        (Quota(status=S.REJECTED), "usage limit reached · reset unknown"),
        (Quota(status=S.ALLOWED, window="five_hour", resets_at=NOW - 600),
         "5h window reset at 17:50"),
        (Quota(status=S.WARNING, window="seven_day_opus", resets_at=AT_2050),
         "7d opus near its limit · resets 20:50"),
        (Quota(status=S.ALLOWED, window="five_hour", utilization=0.4), "5h 40%"),
    ],
)  # fmt: skip
def test_a_window_reads_as_a_few_words(utc, quota, text):
    assert quota_text(quota, NOW) == text


@pytest.mark.parametrize(
    ("seconds", "words", "ticking"),
    [
        (0, "0 s", " 0 s"),
        (4, "4 s", " 4 s"),
        (59.2, "1 min", "60 s"),
        (90, "1 min 30 s", "90 s"),
        (3599.5, "1 h 00 min", "1:00:00"),
        (7799, "2 h 10 min", "2:09:59"),
        (10790, "3 h 00 min", "2:59:50"),
        (250, "4 min 10 s", "4:10"),
    ],
)
def test_durations_read_as_words_and_tick_as_figures(seconds, words, ticking):
    assert duration(seconds) == words
    assert countdown(seconds) == ticking


def test_an_instant_further_than_a_day_names_its_day(utc):
    assert clock_time(NOW + 3600, NOW) == "19:00"
    assert clock_time(NOW + 30 * 3600, NOW) == "Thu 03 Dec 00:00"


def test_the_book_keeps_each_profile_on_disk_and_a_new_one_reads_it(tmp_path):
    path = tmp_path / "state" / "quota.json"
    book = QuotaBook.load(path)
    rejected = Quota(status=S.REJECTED, window="five_hour", resets_at=AT_2050, seen_at=NOW)
    book.record("b", rejected)
    book.record("a", Quota(status=S.ALLOWED, utilization=0.25, seen_at=NOW))
    again = QuotaBook.load(path)
    assert again.get("b") == rejected and again.exhausted_until("b", NOW) == AT_2050
    assert again.get("a").utilization == 0.25 and again.warning is None
    assert json.loads(path.read_text())["profiles"]["b"]["status"] == "rejected"
    again.forget("b")
    assert QuotaBook.load(path).names() == ["a"]


def test_two_runs_sharing_the_file_each_add_what_they_saw(tmp_path):
    path = tmp_path / "quota.json"
    first, second = QuotaBook.load(path), QuotaBook.load(path)
    first.record("a", Quota(status=S.REJECTED, resets_at=AT_2050))
    second.record("b", Quota(status=S.ALLOWED))
    assert QuotaBook.load(path).names() == ["a", "b"]
    assert second.exhausted_until("a", NOW) == AT_2050


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"profiles": []}', b'{"profiles": {"a": {"status": "bogus"}}}', b"\xff\xfe"],
)
def test_an_unreadable_file_costs_one_warning_and_is_set_aside_at_the_next_write(tmp_path, content):
    path = tmp_path / "quota.json"
    path.write_bytes(content)
    book = QuotaBook.load(path)
    assert book.names() == [] and "usage windows start afresh" in book.warning
    book.record("a", Quota(status=S.ALLOWED))
    assert (tmp_path / "quota.json.unreadable").read_bytes() == content
    assert QuotaBook.load(path).names() == ["a"]


def test_a_file_too_large_is_not_read(tmp_path):
    path = tmp_path / "quota.json"
    path.write_bytes(b" " * (2 << 20))
    assert "cannot be read" in QuotaBook.load(path).warning


def test_the_earliest_reset_is_the_first_window_to_open_in_the_users_order_on_a_tie(tmp_path):
    book = QuotaBook()
    book.record("a", Quota(status=S.REJECTED, resets_at=AT_2050))
    book.record("b", Quota(status=S.REJECTED, resets_at=NOW + 600))
    book.record("c", Quota(status=S.REJECTED, resets_at=NOW + 600))
    book.record("d", Quota(status=S.ALLOWED))
    assert book.earliest_reset(["a", "c", "b", "d"], NOW) == ("c", NOW + 600)
    assert book.earliest_reset(["a"], AT_2050) is None
    assert book.earliest_reset(["d", "e"], NOW) is None
