"""``strongroom location create``: register where backups are stored."""

from __future__ import annotations

import pathlib

import click

from strongroom import errors
from strongroom.cli import config, context, location_view
from strongroom.storage import factory


def parse_key_values(values: tuple[str, ...], flag: str) -> dict[str, str]:
    """``k=v,k2=v2`` (the flag may repeat) as a mapping; a malformed pair is a usage error."""
    result: dict[str, str] = {}
    for value in values:
        for pair in value.split(","):
            key, sep, val = pair.partition("=")
            if not sep or not key.strip():
                raise errors.UsageError(f"invalid {flag} entry {pair!r}: expected key=value")
            result[key.strip()] = val.strip()
    return result


@click.command()
@click.argument("name")
@click.option(
    "--provider",
    type=click.Choice(config.PROVIDERS),
    required=True,
    help="filesystem (the bucket is a folder) or s3.",
)
@click.option("--bucket", required=True, help="Bucket name, or the folder for filesystem.")
@click.option("--prefix", default="", help="Key prefix inside the bucket.")
@click.option(
    "--config",
    "provider_config",
    multiple=True,
    metavar="KEY=VALUE,...",
    help="Provider settings, e.g. region=..,s3Url=..,insecureSkipTLSVerify=..,profile=..",
)
@click.option("--default", "make_default", is_flag=True, help="Make this the default location.")
@context.output_option
def create(
    name: str,
    provider: str,
    bucket: str,
    prefix: str,
    provider_config: tuple[str, ...],
    make_default: bool,
) -> None:
    """Create storage location NAME, after checking that it can be reached."""
    settings = context.settings()
    config.check_name("location", name)
    if provider == "filesystem":
        bucket = str(pathlib.Path(bucket).expanduser().absolute())
    loc = config.Location(
        name=name,
        provider=provider,
        bucket=bucket,
        prefix=prefix.strip("/"),
        config=parse_key_values(provider_config, "--config"),
    )
    cfg = config.load(settings.config_path)
    updated = cfg.with_location(loc, make_default=make_default or not cfg.locations)
    backend = factory.open_backend(loc.provider, loc.bucket, loc.prefix, loc.config)
    factory.probe(backend)
    config.save(updated)
    if settings.output is context.OutputFormat.TABLE:
        click.echo(f'Storage location "{name}" created.')
    else:
        location_view.emit(updated, [loc], as_list=False)
