"""``strongroom volume verify``: prove a volume snapshot whole without restoring it."""

from __future__ import annotations

import click

from strongroom import errors
from strongroom.cli import session, volume_view
from strongroom.engine.volumes import snapshots, verify


class SnapshotDamaged(errors.IntegrityError):
    pass


@click.command("verify")
@click.argument("snapshot")
@click.option(
    "--read-data",
    is_flag=True,
    help="Also read, decrypt and check every chunk (reads the snapshot's whole data).",
)
@click.option("--storage-location", default=None, help=volume_view.LOCATION_HELP)
def verify_(snapshot: str, read_data: bool, storage_location: str | None) -> None:
    """Check volume snapshot SNAPSHOT (an id, or latest): its manifest, pack list and whole
    tree authenticate, and every chunk it names is indexed in a pack that is there with
    the size its index gives. --read-data also authenticates every chunk.

    Any problem exits 4: each on stderr, naming the object concerned.
    """
    loc, repo = session.open_repository(storage_location)
    item = volume_view.find(loc, repo, snapshot)
    problems = verify.verify(repo, item, read_data=read_data)
    if problems:
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SnapshotDamaged(f"snapshot {item.id} is damaged: {problems[0]}{more}")
    status = snapshots.status(item)
    files = volume_view.counted(volume_view.count(status.get("files")), "file")
    size = volume_view.size(volume_view.count(status.get("bytes")))
    checked = "every chunk read and authentic" if read_data else "every chunk's pack present"
    click.echo(f"Snapshot {item.id} verified: {files}, {size}; tree authentic, {checked}.")
