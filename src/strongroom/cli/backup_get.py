"""``strongroom backup get``: list backups, or show some by name."""

from __future__ import annotations

import time

import click

from strongroom.cli import backup_view, context, debris_view, heads, session


@click.command()
@click.argument("names", nargs=-1)
@click.option("--storage-location", default=None, help="Location to read (default: the default).")
@context.output_option
def get(names: tuple[str, ...], storage_location: str | None) -> None:
    """List backups, or only those NAMES."""
    loc, repo = session.open_repository(storage_location)
    found = [repo.backup(n) for n in names] if names else repo.backups()
    backup_view.emit(found, loc.name, as_list=len(names) != 1)
    heads.require_clean(repo)
    if not names:
        debris_view.warn(repo.incomplete(), time.time())
