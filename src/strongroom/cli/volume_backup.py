"""``strongroom volume backup``: snapshot a folder, deduplicated and encrypted, into a location."""

from __future__ import annotations

import os
import pathlib
import stat
from typing import Any

import click

from strongroom import clock, errors
from strongroom.cli import (
    config,
    context,
    flags,
    heads,
    output,
    session,
    volume_progress,
    volume_view,
)
from strongroom.engine.volumes import backup as snapshotting
from strongroom.repository import repo as repo_mod


class PartiallyFailed(errors.StrongroomError):
    exit_code = errors.ExitCode.PARTIALLY_FAILED


class NoSuchFolder(errors.NotFoundError):
    pass


class NotAFolder(errors.UsageError):
    pass


def check_folder(path: str) -> None:
    """PATH names a folder: exit 5 when nothing is there, 2 when it is not a folder, 7 when
    it may not be read (the engine would refuse it too, but as a failure, exit 1)."""
    try:
        found = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise NoSuchFolder(f"{path}: no such folder") from None
    except PermissionError:
        raise errors.PermissionDeniedError(f"{path}: permission denied") from None
    except OSError as exc:
        raise errors.StrongroomError(f"{path}: {exc.strerror}") from None
    if not stat.S_ISDIR(found.st_mode):
        raise NotAFolder(f"{path}: not a folder")


def document(outcome: snapshotting.Outcome, path: str, location: str) -> dict[str, Any]:
    """The run's outcome for ``-o json|yaml``."""
    stats = outcome.stats
    return {
        "snapshot": outcome.snapshot,
        "phase": outcome.phase,
        "path": os.path.abspath(path),
        "storageLocation": location,
        "parent": outcome.parent,
        "stats": {
            "files": stats.files,
            "dirs": stats.dirs,
            "bytes": stats.bytes,
            "bytesRead": stats.bytes_read,
            "bytesNew": stats.bytes_new,
            "chunksNew": stats.chunks_new,
            "reusedFiles": stats.reused_files,
        },
        "warnings": outcome.warnings,
    }


@click.command("backup")
@click.argument("path")
@click.option("--storage-location", default=None, help=volume_view.LOCATION_HELP)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="Tag the snapshot (repeatable, or k=v,k2=v2).",
)
@flags.writer_credential(
    "Back up as a registered writer, which can decrypt nothing ('key add --writer-output'): "
    "every file is read, only chunks not yet stored are written."
)
@context.output_option
def backup_(
    path: str,
    storage_location: str | None,
    tags: tuple[str, ...],
    writer_credential: pathlib.Path | None,
) -> None:
    """Snapshot the folder PATH into a location, encrypted and deduplicated with every
    snapshot of the same key epoch there.

    Files unchanged since the last snapshot of the same path on this host are not read
    again (except by a writer, which cannot read that snapshot). Prints the snapshot's id
    ('-o json': the whole outcome, its id as "snapshot"). Files that could not be read
    completely make the snapshot PartiallyFailed (exit 3).
    """
    wanted = flags.key_values(tags, "--tag")
    check_folder(path)
    repo: repo_mod.Repository | None = None
    target: snapshotting.Target
    if writer_credential is not None:
        location = config.load(context.settings().config_path).location(storage_location).name
        target = session.open_writer(location, writer_credential)
    else:
        loc, repo = session.open_repository(storage_location)
        location = loc.name
        heads.require_clean(repo)
        target = repo
    with volume_progress.Meter(f"Backing up {path}") as meter:
        outcome = snapshotting.backup(
            target, path, tags=wanted, clock=clock.SystemClock(), progress=meter.backup
        )
    if repo is not None:
        heads.check(repo)
    if context.settings().output is context.OutputFormat.TABLE:
        stats = outcome.stats
        click.echo(
            f"Snapshot {outcome.snapshot} {outcome.phase}: "
            f"{volume_view.counted(stats.files, 'file')}, "
            f"{volume_view.size(stats.bytes)} ({volume_view.size(stats.bytes_new)} new)."
        )
    else:
        output.emit_documents(
            [document(outcome, path, location)], as_list=False, columns=(), rows=()
        )
    if outcome.phase != "Completed":
        volume_view.warn_some(outcome.warnings)
        at_least = "at least " if len(outcome.warnings) >= snapshotting.MAX_WARNINGS_KEPT else ""
        raise PartiallyFailed(
            f"snapshot {outcome.snapshot} partially failed: {at_least}"
            f"{volume_view.counted(len(outcome.warnings), 'file or folder', 'files or folders')} "
            "not backed up completely"
        )
