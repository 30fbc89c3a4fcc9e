"""``strongroom volume delete``: crypto-shred a volume snapshot; ``volume gc`` frees its data."""

from __future__ import annotations

import sys

import click

from strongroom import errors
from strongroom.cli import session, volume_view
from strongroom.engine.volumes import snapshots


class PartiallyDeleted(errors.StrongroomError):
    exit_code = errors.ExitCode.PARTIALLY_FAILED


class NotShredded(errors.PermissionDeniedError):
    pass


@click.command("delete")
@click.argument("snapshot")
@click.option("--storage-location", default=None, help=volume_view.LOCATION_HELP)
@click.option("--confirm", is_flag=True, help="Do not ask for confirmation.")
def delete(snapshot: str, storage_location: str | None, confirm: bool) -> None:
    """Delete volume snapshot SNAPSHOT (an id, or latest): its key first, so its file names
    and contents are unreadable at once. Its data stays in packs, readable with the
    keyring, until 'strongroom volume gc' deletes what no other snapshot needs."""
    if not confirm and not sys.stdin.isatty():
        raise errors.UsageError("deleting a snapshot cannot be undone: add --confirm")
    loc, repo = session.open_repository(storage_location)
    item = volume_view.find(loc, repo, snapshot)
    if not confirm:
        spec, status = snapshots.spec(item), snapshots.status(item)
        taken = f"{spec.get('path', '?')} at {status.get('startTimestamp', '?')}"
        click.confirm(f"Delete volume snapshot {item.id} ({taken}) for good?", abort=True)
    failed = repo.delete_snapshot(item.id)
    if any(name.startswith("k/") for name in failed):
        raise NotShredded(
            f"snapshot {item.id}: its key could not be deleted, so it is NOT shredded "
            "(keep k/ out of object lock and give the deleting identity delete rights)"
        )
    if failed:
        raise PartiallyDeleted(
            f"snapshot {item.id} is shredded (its key is gone) but {len(failed)} objects could "
            f"not be deleted, e.g. {failed[0]}"
        )
    click.echo(
        f"Snapshot {item.id} deleted. 'strongroom volume gc' frees the data no other "
        "snapshot needs."
    )
