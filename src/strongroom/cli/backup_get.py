"""``strongroom backup get``: list backups, or show some by name, from every location."""

from __future__ import annotations

import time

import click

from strongroom.cli import backup_view, context, debris_view, flags, locate


@click.command()
@click.argument("names", nargs=-1)
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
@flags.label_selector("Only")
@context.output_option
def get(names: tuple[str, ...], selector: str | None, storage_location: str | None) -> None:
    """List the backups of every location (or of --storage-location), or only NAMES, or
    those whose labels match --selector."""
    searched: list[locate.Opened] = []
    found = locate.select("backup", names, selector, storage_location, opened=searched)
    items, where = [f.item for f in found], [f.location.name for f in found]
    backup_view.emit(items, where, as_list=len(names) != 1)
    debris = [d for _, repo in searched for d in repo.incomplete()]
    debris_view.warn(debris, time.time())
