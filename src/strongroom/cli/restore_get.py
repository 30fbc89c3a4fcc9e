"""``strongroom restore get``: list restores, or show some by name."""

from __future__ import annotations

import click

from strongroom.cli import backup_view, context, session


@click.command()
@click.argument("names", nargs=-1)
@click.option("--storage-location", default=None, help="Location to read (default: the default).")
@context.output_option
def get(names: tuple[str, ...], storage_location: str | None) -> None:
    """List restores, or only those NAMES."""
    loc, repo = session.open_repository(storage_location)
    found = [repo.restore(n) for n in names] if names else repo.restores()
    backup_view.emit(found, loc.name, as_list=len(names) != 1, restores=True)
