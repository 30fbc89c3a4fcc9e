"""Schedules: the grammar Velero accepts, and next runs checked against brute force."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.engine import cron

UTC = datetime.UTC


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("0 1 * * *", "2026-12-08T00:30:00", "2026-12-08T01:00:00"),
        ("0 1 * * *", "2026-12-08T01:00:00", "2026-12-09T01:00:00"),  # strictly after
        ("*/15 * * * *", "2026-12-08T10:07:30", "2026-12-08T10:15:00"),
        ("5/20 * * * *", "2026-12-08T10:26:00", "2026-12-08T10:45:00"),
        ("0 0 1 JAN,jul *", "2026-12-08T00:00:00", "2027-01-01T00:00:00"),
        ("30 2 * * MON-FRI", "2026-12-11T03:00:00", "2026-12-14T02:30:00"),  # Fri -> Mon
        ("0 0 13 * 5", "2026-12-08T00:00:00", "2026-12-11T00:00:00"),  # 13th or a Friday
        ("0 0 * * 7", "2026-12-08T00:00:00", "2026-12-13T00:00:00"),  # 7 is Sunday
        ("0 0 ? * SUN", "2026-12-08T00:00:00", "2026-12-13T00:00:00"),
        ("@daily", "2026-12-08T12:00:00", "2026-12-09T00:00:00"),
        ("@weekly", "2026-12-08T12:00:00", "2026-12-13T00:00:00"),
        ("@hourly", "2026-12-08T12:00:00", "2026-12-08T13:00:00"),
        ("@yearly", "2026-12-08T12:00:00", "2027-01-01T00:00:00"),
        ("@every 6h", "2026-12-08T12:00:00.500", "2026-12-08T18:00:00"),
        ("@every 1h30m", "2026-12-08T12:00:00", "2026-12-08T13:30:00"),
        ("0 0 29 2 *", "2026-12-08T00:00:00", "2028-02-29T00:00:00"),
        ("CRON_TZ=Europe/Berlin 0 1 * * *", "2026-12-08T00:30:00", "2026-12-09T00:00:00"),
        ("TZ=America/New_York 0 9 * * *", "2026-07-01T00:00:00", "2026-07-01T13:00:00"),
    ],
)
def test_next_runs(schedule: str, after: str, expected: str) -> None:
    assert cron.parse(schedule).next_after(at(after)) == at(expected)


def test_a_zone_given_by_the_caller_and_daylight_saving_time() -> None:
    berlin = cron.parse("30 2 * * *", default_zone="Europe/Berlin")
    # 2026-03-29: 02:30 does not exist in Berlin (clocks jump from 02:00 to 03:00): no run
    assert berlin.next_after(at("2026-03-28T12:00:00")) == at("2026-03-30T00:30:00")
    # 2026-10-25: 02:30 exists twice: one run, the first (still summer time, UTC+2)
    assert berlin.next_after(at("2026-10-24T12:00:00")) == at("2026-10-25T00:30:00")
    assert berlin.next_after(at("2026-10-25T00:30:00")) == at("2026-10-26T01:30:00")


def test_a_schedule_that_never_runs_says_none() -> None:
    assert cron.parse("0 0 31 2 *").next_after(at("2026-01-01T00:00:00")) is None


@pytest.mark.parametrize(
    "text",
    ["", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
     "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *", "@often", "@every",
     "@every soon", "@every 0s", "TZ=Mars/Olympus 0 0 * * *", "? * * * *"],
)  # fmt: skip
def test_bad_schedules_are_one_line_usage_errors(text: str) -> None:
    with pytest.raises(cron.CronError) as raised:
        cron.parse(text)
    assert "\n" not in str(raised.value) and raised.value.exit_code == 2


FIELD = st.one_of(
    st.just("*"),
    st.integers(0, 5).map(str),
    st.tuples(st.integers(0, 3), st.integers(3, 6)).map(lambda t: f"{t[0]}-{t[1]}"),
    st.integers(1, 4).map(lambda n: f"*/{n}"),
)


def _brute_force(schedule: cron.Schedule, after: datetime.datetime) -> datetime.datetime | None:
    moment = after.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    for _ in range(60 * 24 * 40):
        day_ok = (moment.day in schedule.days, (moment.isoweekday() % 7) in schedule.weekdays)
        days = any(day_ok) if schedule.either_day else all(day_ok)
        if (
            moment.minute in schedule.minutes
            and moment.hour in schedule.hours
            and moment.month in schedule.months
            and days
        ):
            return moment
        moment += datetime.timedelta(minutes=1)
    return None


@settings(max_examples=60, deadline=None)
@given(
    minute=FIELD,
    hour=FIELD,
    day=st.one_of(st.just("*"), st.integers(1, 28).map(str)),
    weekday=st.one_of(st.just("*"), st.integers(0, 6).map(str)),
    start=st.datetimes(datetime.datetime(2026, 1, 1), datetime.datetime(2027, 12, 1)),
)
def test_next_after_is_the_first_matching_minute(
    minute: str, hour: str, day: str, weekday: str, start: datetime.datetime
) -> None:
    schedule = cron.parse(f"{minute} {hour} {day} * {weekday}")
    after = start.replace(tzinfo=UTC)
    expected = _brute_force(schedule, after)
    got = schedule.next_after(after)
    assert got == expected
    if got is not None:
        assert got > after
