"""``strongroom restore logs``: the log a restore wrote, decrypted."""

from __future__ import annotations

import click

from strongroom.cli import backup_view, session


@click.command()
@click.argument("name")
@click.option("--storage-location", default=None, help="Location to read (default: the default).")
def logs(name: str, storage_location: str | None) -> None:
    """Print the log of restore NAME."""
    _, repo = session.open_repository(storage_location)
    click.echo(backup_view.read_text(repo.restore(name), "log"), nl=False)
