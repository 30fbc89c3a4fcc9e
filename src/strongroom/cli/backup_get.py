"""``strongroom backup get``: list backups, or show some by name, from every location."""

from __future__ import annotations

import time

import click

from strongroom.cli import backup_view, context, debris_view, heads, locate
from strongroom.repository import backups as stored


@click.command()
@click.argument("names", nargs=-1)
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
@context.output_option
def get(names: tuple[str, ...], storage_location: str | None) -> None:
    """List the backups of every location (or of --storage-location), or only NAMES."""
    found: list[stored.Backup] = []
    where: list[str] = []
    if names:
        for name in names:
            (loc, repo), item = locate.find("backup", name, storage_location)
            heads.require_clean(repo)
            found.append(item)
            where.append(loc.name)
        backup_view.emit(found, where, as_list=len(names) != 1)
        return
    debris = []
    for loc, repo in locate.each(storage_location):
        items = repo.backups()
        heads.require_clean(repo)
        found += items
        where += [loc.name] * len(items)
        debris += repo.incomplete()
    backup_view.emit(found, where, as_list=True)
    debris_view.warn(debris, time.time())
