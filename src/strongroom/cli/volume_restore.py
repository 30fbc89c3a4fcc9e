"""``strongroom volume restore``: write a volume snapshot (or part of it) into a folder."""

from __future__ import annotations

import os
import pathlib

import click

from strongroom import errors
from strongroom.cli import session, volume_progress, volume_view
from strongroom.engine.volumes import restore as restoring
from strongroom.engine.volumes import snapshots
from strongroom.repository import backups as stored


class PartiallyFailed(errors.StrongroomError):
    exit_code = errors.ExitCode.PARTIALLY_FAILED


class NotAFolder(errors.UsageError):
    pass


#: How the engine names the whole restore in a warning (rather than one entry).
WHOLE = ".: "


@click.command("restore")
@click.argument("snapshot", required=False)
@click.option(
    "--target",
    required=True,
    type=click.Path(path_type=pathlib.Path),
    help="Folder to restore into (made if missing; must be empty unless --overwrite).",
)
@click.option(
    "--include",
    "includes",
    multiple=True,
    metavar="PATH",
    help="Restore only PATH, relative to the snapshot's folder, and what is under it (repeatable).",
)
@click.option("--storage-location", default=None, help=volume_view.LOCATION_HELP)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Restore into a folder that is not empty, replacing files of the same names.",
)
@click.option(
    "--from-backup",
    "backup_name",
    default=None,
    metavar="BACKUP",
    help="Take the snapshot from backup BACKUP (one of its pod volumes), no cluster needed.",
)
@click.option(
    "--pvc",
    default=None,
    metavar="NAMESPACE/NAME",
    help="With --from-backup: the snapshot of that claim's volume (instead of SNAPSHOT).",
)
def restore_(
    snapshot: str | None,
    target: pathlib.Path,
    includes: tuple[str, ...],
    storage_location: str | None,
    overwrite: bool,
    backup_name: str | None,
    pvc: str | None,
) -> None:
    """Restore volume snapshot SNAPSHOT (an id, or latest) into the folder --target:
    contents, modes, times, links, holes and, as root, owners. With --from-backup, a pod
    volume of that backup: SNAPSHOT (its id, as 'backup get -o json' lists them under
    status.volumeSnapshots) or --pvc NAMESPACE/NAME.

    Every chunk is authenticated before it is written: tampered data exits 4 and leaves
    no file with its content. Entries that could not be restored are
    listed and exit 3; notes about the whole restore (owners not set without root) are
    printed but do not fail it.
    """
    if target.exists() and not target.is_dir():
        raise NotAFolder(f"--target {target}: not a folder")
    claim = _claim(pvc, backup_name, snapshot)
    paths = [os.fsencode(path) for path in includes]
    loc, repo = session.open_repository(storage_location)
    item: stored.Backup | snapshots.Held
    if backup_name is not None:
        item = snapshots.in_backup_matching(repo.backup(backup_name), snapshot, claim)
        size = item.entry.get("bytes")
    else:
        assert snapshot is not None
        item = volume_view.find(loc, repo, snapshot)
        size = snapshots.status(item).get("bytes")
    total = None if paths else volume_view.count(size)
    with volume_progress.Meter(f"Restoring {item.id}", total=total) as meter:
        outcome = restoring.restore(
            repo, item, target, includes=paths, overwrite=overwrite, progress=meter.restore
        )
    click.echo(
        f"Snapshot {item.id} restored into {target}: {volume_view.counted(outcome.files, 'file')}, "
        f"{volume_view.counted(outcome.dirs, 'folder')}, {volume_view.size(outcome.bytes)}."
    )
    volume_view.warn_some(outcome.warnings)
    failed = [w for w in outcome.warnings if not w.startswith(WHOLE)]
    count = max(len(failed), outcome.skipped)
    if count:
        raise PartiallyFailed(
            f"snapshot {item.id} partially restored: "
            f"{volume_view.counted(count, 'entry', 'entries')} not restored as "
            f"{'it was' if count == 1 else 'they were'}"
        )


def _claim(pvc: str | None, backup: str | None, snapshot: str | None) -> tuple[str, str] | None:
    """``--pvc`` as (namespace, name); usage errors for combinations that mean nothing."""
    if pvc is not None and backup is None:
        raise errors.UsageError("--pvc names a claim of a backup: give --from-backup too")
    if (pvc is None) == (snapshot is None) and backup is not None:
        raise errors.UsageError("with --from-backup, give SNAPSHOT or --pvc NAMESPACE/NAME")
    if backup is None and snapshot is None:
        raise errors.UsageError("give SNAPSHOT (an id, or latest), or --from-backup")
    if pvc is None:
        return None
    namespace, sep, name = pvc.partition("/")
    if not sep or not namespace or not name or "/" in name:
        raise errors.UsageError(f"--pvc {pvc!r}: expected NAMESPACE/NAME")
    return namespace, name
