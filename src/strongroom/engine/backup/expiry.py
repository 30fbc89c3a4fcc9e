"""When a backup expires, and which backups have: the rule of Velero's garbage collector.

A backup's expiration is its manifest's ``status.expiration`` (start + ttl, written when it
was made); a manifest without one falls back to ``status.startTimestamp + spec.ttl``, as Velero
falls back to creation + ttl. A backup has expired once its expiration is not after now. A
value that cannot be read makes a backup never expire: what gets deleted is never guessed.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from strongroom import clock, errors
from strongroom.engine.backup import durations
from strongroom.repository import backups


def expiration(spec: Mapping[str, Any], status: Mapping[str, Any]) -> datetime.datetime | None:
    """When a backup with this manifest ``spec`` and ``status`` expires; None if unknown."""
    stated = status.get("expiration")
    try:
        if stated:
            return clock.parse_rfc3339(str(stated))
        started, ttl = status.get("startTimestamp"), spec.get("ttl")
        if not started or not isinstance(ttl, str):
            return None
        return clock.parse_rfc3339(str(started)) + durations.parse(ttl, "ttl")
    except (ValueError, OverflowError, errors.UsageError):
        return None


def has_expired(when: datetime.datetime | None, now: datetime.datetime) -> bool:
    return when is not None and when <= now


@dataclasses.dataclass(frozen=True)
class Expired:
    """A backup past its expiration."""

    backup: backups.Backup
    expiration: datetime.datetime

    @property
    def name(self) -> str:
        return self.backup.name


def expired(items: Iterable[backups.Backup], now: datetime.datetime) -> list[Expired]:
    """The backups among ``items`` that have expired at ``now``, the longest expired first."""
    found = []
    for item in items:
        when = expiration(item.manifest.spec, item.manifest.status)
        if when is not None and has_expired(when, now):
            found.append(Expired(item, when))
    return sorted(found, key=lambda e: (e.expiration, e.name))
