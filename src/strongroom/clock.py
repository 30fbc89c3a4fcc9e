"""The one place that reads the wall clock; everything else takes a :class:`Clock`."""

from __future__ import annotations

import datetime
import typing


class Clock(typing.Protocol):
    def now(self) -> datetime.datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)


def rfc3339(moment: datetime.datetime) -> str:
    """``2026-11-29T16:31:08Z``: UTC, whole seconds, as Kubernetes and Velero print times."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
