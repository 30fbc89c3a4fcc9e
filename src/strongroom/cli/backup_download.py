"""``strongroom backup download``: the backup's resource archive, decrypted, to a file."""

from __future__ import annotations

import os
import pathlib

import click

from strongroom import errors
from strongroom.cli import locate


@click.command()
@click.argument("name")
@click.option(
    "--file",
    "target",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    default=None,
    help="Where to write (default: NAME-data.tar.zst here). Never overwritten.",
)
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
def download(name: str, target: pathlib.Path | None, storage_location: str | None) -> None:
    """Write backup NAME's resources as a zstd-compressed tar (read it with zstd -d | tar -t).

    The file holds the backup in plaintext, Secrets included: it is written where you say,
    readable by you only, and only after the whole archive authenticated.
    """
    _, backup = locate.find("backup", name, storage_location)
    path = target or pathlib.Path(f"{name}-data.tar.zst")
    chunks = backup.open("archive")
    first = next(chunks, b"")  # the archive is verified before the first chunk comes out
    try:  # 0600 from its creation: not readable by others even for a moment
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise errors.AlreadyExistsError(f"{path} exists: not overwriting it") from exc
    except OSError as exc:
        raise errors.PermissionDeniedError(f"{path}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(first)
        for chunk in chunks:
            handle.write(chunk)
    click.echo(f"Backup {name} downloaded to {path}.")
