"""``strongroom restore get``: list restores, or show some by name."""

from __future__ import annotations

import click

from strongroom.cli import backup_view, context, locate
from strongroom.repository import backups as stored


@click.command()
@click.argument("names", nargs=-1)
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
@context.output_option
def get(names: tuple[str, ...], storage_location: str | None) -> None:
    """List restores, or only those NAMES."""
    found, where = _gather("restore", names, storage_location)
    backup_view.emit(found, where, as_list=len(names) != 1, restores=True)


def _gather(
    kind: str, names: tuple[str, ...], storage_location: str | None
) -> tuple[list[stored.Backup], list[str]]:
    """The named items (each from the one location holding it), or every item of every
    location searched; and the location of each."""
    found: list[stored.Backup] = []
    where: list[str] = []
    if names:
        for name in names:
            (loc, _), item = locate.find(kind, name, storage_location)
            found.append(item)
            where.append(loc.name)
        return found, where
    for loc, repo in locate.each(storage_location):
        items = repo.backups() if kind == "backup" else repo.restores()
        found += items
        where += [loc.name] * len(items)
    return found, where
