"""``strongroom location get``: list storage locations."""

from __future__ import annotations

import click

from strongroom.cli import config, context, location_view


@click.command()
@click.argument("names", nargs=-1)
@context.output_option
def get(names: tuple[str, ...]) -> None:
    """List storage locations, or only those NAMES."""
    cfg = config.load(context.settings().config_path)
    chosen = [cfg.location(n) for n in names] if names else list(cfg.locations)
    location_view.emit(cfg, chosen, as_list=len(names) != 1)
