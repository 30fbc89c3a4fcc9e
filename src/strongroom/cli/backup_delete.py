"""``strongroom backup delete``: crypto-shred a backup, then delete what storage allows."""

from __future__ import annotations

import sys

import click

from strongroom import errors
from strongroom.cli import session


class PartiallyDeleted(errors.StrongroomError):
    exit_code = errors.ExitCode.PARTIALLY_FAILED


@click.command()
@click.argument("name")
@click.option("--confirm", is_flag=True, help="Do not ask for confirmation.")
@click.option("--storage-location", default=None, help="Location to use (default: the default).")
def delete(name: str, confirm: bool, storage_location: str | None) -> None:
    """Delete backup NAME: its key first, so it is unreadable even where data stays."""
    if not confirm:
        if not sys.stdin.isatty():
            raise errors.UsageError("deleting a backup cannot be undone: add --confirm")
        click.confirm(f"Delete backup {name} for good?", abort=True)
    _, repo = session.open_repository(storage_location)
    failed = repo.delete_backup(name)
    if any(f.startswith("k/") for f in failed):
        raise errors.PermissionDeniedError(
            f"backup {name}: its key could not be deleted, so it is NOT shredded "
            "(keep k/ out of object lock and give the deleting identity delete rights)"
        )
    if failed:
        raise PartiallyDeleted(
            f"backup {name} is shredded (its key is gone) but {len(failed)} objects could not "
            f"be deleted, e.g. {failed[0]}"
        )
    click.echo(f"Backup {name} deleted.")
