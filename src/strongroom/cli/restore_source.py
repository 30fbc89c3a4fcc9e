"""Which backup ``restore create`` restores: the one ``--from-backup`` names, or the newest
of a schedule's (``--from-schedule``, Velero's ``scheduleName``).

A schedule's backups carry the label ``strongroom.io/schedule-name=<schedule>``
(:data:`~strongroom.engine.backup.objectmeta.SCHEDULE_LABEL`); until Strongroom runs
schedules itself, a cron job gives it with ``backup create ... --labels``. The candidates
are the schedule's backups whose phase is Completed (with ``--allow-partially-failed``,
PartiallyFailed too) and that have not expired; an incomplete backup is no backup at all.
The newest is the one whose authenticated manifest started last (Velero's order), then
completed last, then has the later name: nothing the storage says unauthenticated counts.
Every configured location is searched (``--storage-location`` names one), each audited
first against what this client remembers, as ``backup get`` does: a location rolled back
to an older state cannot pass an older backup off as the newest.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime

import click

from strongroom import clock, errors
from strongroom.cli import locate
from strongroom.engine.backup import expiry, objectmeta, selectors
from strongroom.engine.restore import spec as restore_spec
from strongroom.repository import backups as stored
from strongroom.repository import repo as repo_mod

_OLDEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)


class NoScheduledBackup(errors.NotFoundError):
    pass


def check_flags(backup: str | None, schedule: str | None, allow_partially_failed: bool) -> None:
    """Exactly one of ``--from-backup`` and ``--from-schedule``; ``--allow-partially-failed``
    only with the latter (Velero ignores it otherwise; a flag that changes nothing is refused)."""
    if backup is not None and schedule is not None:
        raise click.UsageError("give --from-backup or --from-schedule, not both")
    if backup is None and schedule is None:
        raise click.UsageError("give --from-backup BACKUP or --from-schedule SCHEDULE")
    if allow_partially_failed and schedule is None:
        raise click.UsageError(
            "--allow-partially-failed applies only to --from-schedule (a backup named with "
            "--from-backup is restored whatever its phase)"
        )
    if schedule is not None:
        problem = selectors.value_problem(schedule) if schedule else "it is empty"
        if problem is not None:
            raise click.UsageError(f"--from-schedule {schedule!r}: not a schedule name ({problem})")


@dataclasses.dataclass(frozen=True)
class Chosen:
    """The newest qualifying backup of a schedule, and the location holding it."""

    opened: locate.Opened
    backup: stored.Backup


def _time(value: object) -> datetime.datetime:
    try:
        return clock.parse_rfc3339(str(value))
    except ValueError:
        return _OLDEST  # never guessed to be the newest


def _recency(chosen: Chosen) -> tuple[datetime.datetime, datetime.datetime, str]:
    status = chosen.backup.manifest.status
    started, completed = status.get("startTimestamp"), status.get("completionTimestamp")
    return _time(started), _time(completed), chosen.backup.name


def newest(
    schedule: str,
    storage_location: str | None,
    *,
    allow_partially_failed: bool,
    now: datetime.datetime,
) -> Chosen:
    """The newest backup of ``schedule`` a restore may start from; NoScheduledBackup (exit 5)
    naming the schedule, the locations searched and what was passed over when none is."""
    phases = ("Completed", "PartiallyFailed") if allow_partially_failed else ("Completed",)
    found: list[Chosen] = []
    searched: list[str] = []
    passed_over: collections.Counter[str] = collections.Counter()
    for loc, repo in locate.each(storage_location, audit=True):
        searched.append(loc.name)
        for item in repo.backups():
            if locate.labels(item, loc.name).get(objectmeta.SCHEDULE_LABEL) != schedule:
                continue
            spec, status = item.manifest.spec, item.manifest.status
            phase = str(status.get("phase", ""))
            if phase not in phases:
                passed_over[phase or "no phase"] += 1
            elif expiry.has_expired(expiry.expiration(spec, status), now):
                passed_over["expired"] += 1
            else:
                found.append(Chosen((loc, repo), item))
    if found:
        return max(found, key=_recency)
    wanted = " or ".join(phases)
    skipped = ", ".join(f"{n} {what}" for what, n in sorted(passed_over.items()))
    hint = ""
    if passed_over["PartiallyFailed"] and not allow_partially_failed:
        hint = "; --allow-partially-failed takes PartiallyFailed ones"
    raise NoScheduledBackup(
        f"no {wanted} backup of schedule {schedule!r} (label {objectmeta.SCHEDULE_LABEL}="
        f"{schedule}) found (searched: {', '.join(searched)})"
        + (f"; passed over: {skipped}{hint}" if skipped else "")
    )


def resolve(
    spec: restore_spec.RestoreSpec,
    storage_location: str | None,
    *,
    allow_partially_failed: bool,
    announce: bool,
) -> tuple[str, repo_mod.Repository, restore_spec.RestoreSpec]:
    """The location (its name here) and repository holding the backup to restore, and
    ``spec`` naming that backup: the one ``--from-backup`` named, or the newest of
    ``spec.schedule_name`` (said on stdout with ``announce``: which backup, where, from
    when)."""
    if not spec.schedule_name:
        (loc, repo), _ = locate.find("backup", spec.backup_name, storage_location)
        return loc.name, repo, spec
    chosen = newest(
        spec.schedule_name, storage_location,
        allow_partially_failed=allow_partially_failed, now=clock.SystemClock().now(),
    )  # fmt: skip
    (loc, repo), backup = chosen.opened, chosen.backup
    if announce:
        started = backup.manifest.status.get("startTimestamp", "?")
        click.echo(
            f'Backup "{backup.name}" of schedule "{spec.schedule_name}" (location {loc.name}, '
            f"started {started})."
        )
    return loc.name, repo, dataclasses.replace(spec, backup_name=backup.name)
