"""``strongroom restore get``: list restores, or show some by name."""

from __future__ import annotations

import click

from strongroom.cli import backup_view, context, flags, locate


@click.command()
@click.argument("names", nargs=-1)
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
@flags.label_selector("Only")
@context.output_option
def get(names: tuple[str, ...], selector: str | None, storage_location: str | None) -> None:
    """List restores of every location (or of --storage-location), or only NAMES, or those
    whose labels match --selector."""
    found = locate.select("restore", names, selector, storage_location)
    items, where = [f.item for f in found], [f.location.name for f in found]
    backup_view.emit(items, where, as_list=len(names) != 1, restores=True)
