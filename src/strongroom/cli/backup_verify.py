"""``strongroom backup verify``: prove a backup intact without restoring it."""

from __future__ import annotations

import click

from strongroom.cli import locate


@click.command()
@click.argument("name")
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
def verify(name: str, storage_location: str | None) -> None:
    """Check every object of backup NAME: present, digest, binding and every AEAD tag.

    Exits 4 naming the object and the reason at the first violation.
    """
    _, backup = locate.find("backup", name, storage_location)
    checked = backup.verify()
    size = sum(r.size for r in backup.manifest.objects) + backup.manifest_record.size
    click.echo(f"Backup {name} verified: {len(checked) + 2} objects, {size} bytes, all authentic.")
