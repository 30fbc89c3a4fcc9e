"""``strongroom restore logs``: the log a restore wrote, decrypted."""

from __future__ import annotations

import click

from strongroom.cli import backup_view, locate


@click.command()
@click.argument("name")
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
def logs(name: str, storage_location: str | None) -> None:
    """Print the log of restore NAME."""
    _, restore = locate.find("restore", name, storage_location)
    click.echo(backup_view.read_text(restore, "log"), nl=False)
