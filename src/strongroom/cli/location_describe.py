"""``strongroom location describe``: one storage location in detail."""

from __future__ import annotations

import click

from strongroom.cli import config, context, location_view, output


@click.command()
@click.argument("name", required=False)
@context.output_option
def describe(name: str | None) -> None:
    """Show storage location NAME (default: the default location)."""
    settings = context.settings()
    cfg = config.load(settings.config_path)
    loc = cfg.location(name)
    if settings.output is not context.OutputFormat.TABLE:
        location_view.emit(cfg, [loc], as_list=False)
        return
    pairs = [
        ("Name", loc.name),
        ("Provider", loc.provider),
        ("Bucket", loc.bucket),
        ("Prefix", loc.prefix or "<none>"),
        ("Default", "true" if loc.name == cfg.default_location else "false"),
        ("Config", ", ".join(f"{k}={v}" for k, v in sorted(loc.config.items())) or "<none>"),
        ("Config file", str(cfg.path)),
    ]
    output.emit_fields(pairs)
