"""``strongroom location delete``: forget a storage location (its data is left alone)."""

from __future__ import annotations

import click

from strongroom.cli import config, context


@click.command()
@click.argument("name")
def delete(name: str) -> None:
    """Remove storage location NAME from the configuration.

    Nothing in the bucket or folder is deleted: creating the location again finds its backups.
    """
    settings = context.settings()
    cfg = config.load(settings.config_path)
    config.save(cfg.without_location(name))
    click.echo(f'Storage location "{name}" deleted; its data was not touched.')
