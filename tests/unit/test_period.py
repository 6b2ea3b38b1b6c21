"""A profile's billing period: calendar months and cycles from a reset day, in time zones."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent_tui.engine.accounts.period import period_of

UTC = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
AUCKLAND = ZoneInfo("Pacific/Auckland")


def at(tz, *fields) -> float:
    return datetime(*fields, tzinfo=tz).timestamp()


def test_the_calendar_month_runs_from_the_first_midnight_to_the_next():
    period = period_of(at(UTC, 2026, 6, 15, 12), tz=UTC)
    assert period.start == at(UTC, 2026, 6, 1)
    assert period.end == at(UTC, 2026, 7, 1)
    assert (period.label, period.next_reset) == ("June 2026", "1 Jul")


def test_the_last_instant_of_a_month_is_in_it_and_the_next_is_not():
    june = period_of(at(UTC, 2026, 6, 1), tz=UTC)
    assert june.holds(at(UTC, 2026, 6, 30, 23, 59, 59))
    assert not june.holds(at(UTC, 2026, 7, 1))
    assert period_of(at(UTC, 2026, 7, 1), tz=UTC).label == "July 2026"
    assert period_of(at(UTC, 2026, 5, 31, 23, 59, 59), tz=UTC).label == "May 2026"


def test_december_runs_into_january_of_the_next_year():
    december = period_of(at(UTC, 2026, 12, 31, 23), tz=UTC)
    assert (december.end, december.next_reset) == (at(UTC, 2027, 1, 1), "1 Jan")


def test_the_same_instant_is_in_a_different_month_in_another_time_zone():
    instant = at(NEW_YORK, 2026, 1, 31, 23, 30)  # 04:30 on 1 February in UTC
    assert period_of(instant, tz=NEW_YORK).label == "January 2026"
    assert period_of(instant, tz=UTC).label == "February 2026"
    assert period_of(instant, tz=AUCKLAND).label == "February 2026"
    assert period_of(instant, tz=NEW_YORK).end == at(NEW_YORK, 2026, 2, 1)


def test_a_month_across_a_daylight_saving_change_ends_at_local_midnight():
    march = period_of(at(NEW_YORK, 2026, 3, 20), tz=NEW_YORK)  # EST to EDT on 8 March
    assert march.start == at(NEW_YORK, 2026, 3, 1)
    assert march.end == at(NEW_YORK, 2026, 4, 1)
    assert march.end - march.start == 31 * 86400 - 3600  # one hour shorter


def test_a_billing_cycle_starts_on_its_reset_day():
    before = period_of(at(UTC, 2026, 6, 14, 23), reset_day=15, tz=UTC)
    after = period_of(at(UTC, 2026, 6, 15), reset_day=15, tz=UTC)
    assert (before.start, before.end) == (at(UTC, 2026, 5, 15), at(UTC, 2026, 6, 15))
    assert (after.start, after.end) == (at(UTC, 2026, 6, 15), at(UTC, 2026, 7, 15))
    assert after.label == "15 Jun to 14 Jul 2026" and after.next_reset == "15 Jul"


def test_a_reset_day_past_a_short_months_end_falls_on_its_last_day():
    february = period_of(at(UTC, 2026, 2, 28, 12), reset_day=31, tz=UTC)
    assert february.start == at(UTC, 2026, 2, 28)
    assert february.end == at(UTC, 2026, 3, 31)
    leap = period_of(at(UTC, 2028, 2, 29, 1), reset_day=30, tz=UTC)
    assert leap.start == at(UTC, 2028, 2, 29)
    january = period_of(at(UTC, 2026, 2, 27), reset_day=31, tz=UTC)
    assert (january.start, january.end) == (at(UTC, 2026, 1, 31), at(UTC, 2026, 2, 28))


def test_a_cycle_across_the_new_year():
    cycle = period_of(at(UTC, 2027, 1, 5), reset_day=20, tz=UTC)
    assert (cycle.start, cycle.end) == (at(UTC, 2026, 12, 20), at(UTC, 2027, 1, 20))
    assert cycle.label == "20 Dec to 19 Jan 2027"


@pytest.fixture
def local_zone(monkeypatch):
    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


def test_without_a_zone_the_machines_local_time_decides(local_zone):
    instant = at(NEW_YORK, 2026, 1, 31, 23, 30)
    local_zone("America/New_York")
    assert period_of(instant).label == "January 2026"
    assert period_of(instant).end == at(NEW_YORK, 2026, 2, 1)
    local_zone("Pacific/Auckland")
    assert period_of(instant).label == "February 2026"
