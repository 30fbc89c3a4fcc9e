"""``strongroom key list``: the keyslots of a location's repository."""

from __future__ import annotations

import click

from strongroom.cli import context, key_view, session


@click.command(name="list")
@click.option("--location", "location", default=None, help="Location (default: the default).")
@context.output_option
def list_(location: str | None) -> None:
    """List the keyslots: each one opens every backup of the repository."""
    loc, repo = session.open_repository(location)
    key_view.emit(loc.name, repo.slots(), repo.epochs())
