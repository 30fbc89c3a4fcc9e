"""``strongroom volume list``: the volume snapshots of a location, oldest first."""

from __future__ import annotations

import click

from strongroom.cli import context, heads, output, session, volume_view


@click.command("list")
@click.option("--storage-location", default=None, help=volume_view.LOCATION_HELP)
@context.output_option
def list_(storage_location: str | None) -> None:
    """List the volume snapshots of a location, oldest first: id, start time, host, path,
    files, size, bytes newly stored, status and tags ('-o json|yaml': a List of
    VolumeSnapshot objects named by id)."""
    loc, repo = session.open_repository(storage_location)
    heads.require_clean(repo)
    items = repo.snapshots()
    output.emit_documents(
        [volume_view.document(item, loc.name) for item in items],
        as_list=True,
        columns=volume_view.COLUMNS,
        rows=[volume_view.row(item) for item in items],
    )
