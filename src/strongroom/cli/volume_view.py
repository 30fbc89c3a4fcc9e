"""How volume snapshots look on the command line, and finding one in a location.

Volume commands act on one location: ``--storage-location``, else the default one. A
snapshot is named by its id, or ``latest`` (the newest snapshot there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from strongroom.cli import config
from strongroom.engine.volumes import snapshots
from strongroom.repository import backups as stored
from strongroom.repository import repo as repo_mod

KIND = "VolumeSnapshot"
COLUMNS = ("id", "time", "host", "path", "files", "size", "new", "status", "tags")
LOCATION_HELP = "Location to use (default: the default location; snapshots are looked up there)."
#: Warnings printed before a command's closing error; the rest are counted.
SHOWN_WARNINGS = 5


def find(location: config.Location, repo: repo_mod.Repository, wanted: str) -> stored.Backup:
    """Snapshot ``wanted`` (an id, or ``latest``) of ``location``; exit 5 naming it if none."""
    try:
        return snapshots.find(repo, wanted)
    except snapshots.SnapshotNotFound as exc:
        what = "no volume snapshot" if wanted == "latest" else f"no volume snapshot {wanted!r}"
        raise snapshots.SnapshotNotFound(
            f"{what} in location {location.name} (another location: --storage-location)"
        ) from exc


def size(nbytes: int) -> str:
    """``0 B``, ``512 B``, ``1.5 KiB``, ``12.3 MiB``: bytes as people read them."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """``1 file``, ``2 files``."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def tags_text(tags: object) -> str:
    if not isinstance(tags, dict) or not tags:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(tags.items()))


def document(item: stored.Backup, location: str) -> dict[str, Any]:
    """The snapshot as a ``VolumeSnapshot`` object named by its id (its manifest's spec and
    status), labelled with its storage location as backups are."""
    return {
        "apiVersion": config.API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": item.id,
            "labels": {"strongroom.io/storage-location": location},
        },
        "spec": snapshots.spec(item),
        "status": snapshots.status(item),
    }


def count(value: object) -> int:
    """A count from a manifest's status; 0 when absent."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def row(item: stored.Backup) -> list[str]:
    spec, status = snapshots.spec(item), snapshots.status(item)
    return [
        item.id,
        str(status.get("startTimestamp", "")),
        str(spec.get("host", "")),
        str(spec.get("path", "")),
        str(count(status.get("files"))),
        size(count(status.get("bytes"))),
        size(count(status.get("bytesNew"))),
        str(status.get("phase", "")),
        tags_text(spec.get("tags")),
    ]


def warn_some(warnings: Sequence[str], total: int | None = None) -> None:
    """The first few warnings on stderr, one line each, and how many more there are."""
    for warning in warnings[:SHOWN_WARNINGS]:
        click.echo(f"warning: {warning}", err=True)
    more = (len(warnings) if total is None else total) - min(len(warnings), SHOWN_WARNINGS)
    if more > 0:
        click.echo(f"warning: ... and {more} more", err=True)
