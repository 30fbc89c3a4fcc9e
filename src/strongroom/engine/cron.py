"""Schedules as Velero writes them: standard five-field cron, descriptors, ``@every``, zones.

The grammar is that of Velero's cron library (robfig/cron, ``ParseStandard``):

- five fields, minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC), day
  of week (0-6 or SUN-SAT, 7 also Sunday); each a list of ``*``, ``N``, ``A-B``, with an
  optional ``/STEP``; ``?`` is ``*`` in the day fields;
- when both day fields are restricted, a day matching either is taken (cron's rule); when one
  is ``*``, the other decides;
- ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``),
  ``@hourly``; ``@every DURATION`` (Go syntax, at least one second);
- a leading ``CRON_TZ=Zone`` or ``TZ=Zone`` names the IANA zone the fields are read in
  (default: UTC, or the zone the caller gives).

In a zone with daylight saving time, a local time that does not exist (the hour skipped in
spring) is not a run; one that exists twice (the hour repeated in autumn) runs once, the first
time. :func:`parse` raises :class:`CronError` with a one-line cause.
"""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo

from strongroom import errors
from strongroom.engine.backup import durations

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {n: i for i, n in enumerate(_MONTH_NAMES, 1)}
_DAYS = {n: i for i, n in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
#: How far ahead a search looks before giving up (a schedule of 31 February never runs).
_HORIZON_DAYS = 366 * 5


class CronError(errors.UsageError):
    """A schedule that does not parse."""


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A parsed schedule; :meth:`next_after` gives its runs."""

    text: str
    zone: datetime.tzinfo
    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()
    #: Both day fields restricted: a day matching either runs.
    either_day: bool = False
    every: datetime.timedelta | None = None

    def next_after(self, moment: datetime.datetime) -> datetime.datetime | None:
        """The first run strictly after ``moment`` (an aware time), in UTC; None if none
        comes within five years."""
        if moment.tzinfo is None:
            raise ValueError("next_after needs an aware time")
        if self.every is not None:
            whole = moment.replace(microsecond=0)
            return (whole + self.every).astimezone(datetime.UTC)
        local = moment.astimezone(self.zone).replace(second=0, microsecond=0, tzinfo=None)
        candidate = local + datetime.timedelta(minutes=1)
        end = local + datetime.timedelta(days=_HORIZON_DAYS)
        while candidate <= end:
            if candidate.month not in self.months:
                candidate = _next_month(candidate)
                continue
            if not self._day_matches(candidate):
                candidate = (candidate + datetime.timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if candidate.hour not in self.hours:
                candidate = (candidate + datetime.timedelta(hours=1)).replace(minute=0)
                continue
            if candidate.minute not in self.minutes:
                candidate += datetime.timedelta(minutes=1)
                continue
            found = _aware(candidate, self.zone)
            if found is not None and found > moment:
                return found.astimezone(datetime.UTC)
            candidate += datetime.timedelta(minutes=1)
        return None

    def _day_matches(self, day: datetime.datetime) -> bool:
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        return (in_month or in_week) if self.either_day else (in_month and in_week)


def _next_month(moment: datetime.datetime) -> datetime.datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime.datetime(year, month, 1)


def _aware(local: datetime.datetime, zone: datetime.tzinfo) -> datetime.datetime | None:
    """``local`` in ``zone``; None when that local time does not exist there (the first of
    two, ``fold=0``, when it exists twice)."""
    first = local.replace(tzinfo=zone, fold=0)
    back = first.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None)
    return first if back == local else None


def parse(text: str, default_zone: str = "UTC") -> Schedule:
    """The schedule ``text`` describes; CronError naming what is wrong otherwise."""
    body = text.strip()
    zone_name = default_zone
    if body.startswith(("CRON_TZ=", "TZ=")):
        spec, _, body = body.partition(" ")
        zone_name = spec.partition("=")[2]
        body = body.strip()
    zone = _zone(zone_name)
    if body.startswith("@every"):
        return Schedule(text, zone, every=_every(body[len("@every") :].strip(), text))
    fields = _DESCRIPTORS.get(body, body).split()
    if len(fields) != 5:
        raise CronError(f"schedule {text!r}: expected 5 fields (minute hour day month weekday) "
                        "or a descriptor such as @daily or @every 6h")  # fmt: skip
    minute, hour, day, month, weekday = fields
    days = _field(day, 1, 31, {}, text, "day of month", question=True)
    weekdays = frozenset(d % 7 for d in _field(weekday, 0, 7, _DAYS, text, "day of week",
                                               question=True))  # fmt: skip
    return Schedule(
        text,
        zone,
        minutes=_field(minute, 0, 59, {}, text, "minute"),
        hours=_field(hour, 0, 23, {}, text, "hour"),
        days=days,
        months=_field(month, 1, 12, _MONTHS, text, "month"),
        weekdays=weekdays,
        either_day=_restricted(day) and _restricted(weekday),
    )


def _restricted(field: str) -> bool:
    return not (field.startswith("*") or field.startswith("?"))


def _zone(name: str) -> datetime.tzinfo:
    if name in ("UTC", "Etc/UTC", "Local"):
        return datetime.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CronError(f"time zone {name!r}: not a known IANA zone") from None


def _every(text: str, whole: str) -> datetime.timedelta:
    try:
        every = durations.parse(text, "@every")
    except errors.StrongroomError:
        raise CronError(f"schedule {whole!r}: @every takes a duration such as 6h or 90m") from None
    if every < datetime.timedelta(seconds=1):
        raise CronError(f"schedule {whole!r}: @every needs at least one second")
    return every


def _field(
    text: str, low: int, high: int, names: dict[str, int], whole: str, what: str,
    *, question: bool = False,
) -> frozenset[int]:  # fmt: skip
    found: set[int] = set()
    for part in text.split(","):
        found |= _part(part, low, high, names, whole, what, question)
    return frozenset(found)


def _part(
    part: str, low: int, high: int, names: dict[str, int], whole: str, what: str, question: bool
) -> set[int]:
    bad = CronError(f"schedule {whole!r}: {what} {part!r} is not valid (allowed {low}-{high})")
    span, slash, step_text = part.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise bad
        step = int(step_text)
    if span in ("*",) or (question and span == "?"):
        start, end = low, high
    else:
        first, dash, last = span.partition("-")
        start = _value(first, names, bad)
        end = _value(last, names, bad) if dash else (high if slash else start)
    if not low <= start <= end <= high:
        raise bad
    return set(range(start, end + 1, step))


def _value(text: str, names: dict[str, int], bad: CronError) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise bad
    return int(text)
