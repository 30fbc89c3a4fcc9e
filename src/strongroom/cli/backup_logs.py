"""``strongroom backup logs``: the log a backup wrote, decrypted."""

from __future__ import annotations

import click

from strongroom.cli import backup_view, locate


@click.command()
@click.argument("name")
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
def logs(name: str, storage_location: str | None) -> None:
    """Print the log of backup NAME."""
    _, backup = locate.find("backup", name, storage_location)
    click.echo(backup_view.read_text(backup, "log"), nl=False)
