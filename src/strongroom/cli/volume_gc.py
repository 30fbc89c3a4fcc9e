"""``strongroom volume gc``: the collection, deleting the volume data no snapshot needs."""

from __future__ import annotations

from typing import Any

import click

from strongroom import clock, errors
from strongroom.cli import context, heads, output, session, volume_view
from strongroom.engine.volumes import verify
from strongroom.repository.volumes import collect, sessions


class CollectionProblems(errors.IntegrityError):
    pass


def document(location: str, reports: dict[int, collect.Report]) -> dict[str, Any]:
    """Every epoch's report for ``-o json|yaml``."""
    return {
        "storageLocation": location,
        "epochs": [
            {
                "epoch": epoch,
                "marked": r.marked,
                "waiting": r.waiting,
                "deletedPacks": r.deleted_packs,
                "deletedBytes": r.deleted_bytes,
                "repackedPacks": r.repacked_packs,
                "newPacks": r.new_packs,
                "kept": r.kept,
                "clearedUploads": r.cleared_uploads,
                "problems": r.problems,
            }
            for epoch, r in sorted(reports.items())
        ],
    }


def summary(reports: dict[int, collect.Report]) -> list[str]:
    """What the run did, in lines, all epochs together."""
    every = list(reports.values())
    deleted = sum(r.deleted_packs for r in every)
    freed = sum(r.deleted_bytes for r in every)
    repacked, new = sum(r.repacked_packs for r in every), sum(r.new_packs for r in every)
    kept = sum(r.kept for r in every)
    waiting = sorted({gc_id for r in every for gc_id in r.waiting})
    lines = []
    if deleted or repacked:
        rewrote = (
            f"; rewrote the live chunks of {volume_view.counted(repacked, 'mostly unused pack')} "
            f"into {volume_view.counted(new, 'new one')}"
            if repacked
            else ""
        )
        packs = volume_view.counted(deleted, "pack")
        lines.append(f"Deleted {packs} ({volume_view.size(freed)}){rewrote}.")
    elif not waiting:
        lines.append("Nothing to delete: every pack is in use.")
    cleared = sum(r.cleared_uploads for r in every)
    if cleared:
        lines.append(
            f"Cleared {volume_view.counted(cleared, 'unfinished pack upload')} "
            "that killed backups left."
        )
    if kept:
        lines.append(
            f"Kept {volume_view.counted(kept, 'marked pack')} that a snapshot committed "
            "since the mark reuses."
        )
    if waiting:
        dead = int(sessions.DEAD_AFTER.total_seconds() // 60)
        lines.append(
            f"A mark ({', '.join(waiting)}) waits for volume backups that were running when "
            "it was made: run 'strongroom volume gc' again once they finish (a backup that "
            f"died counts as finished {dead} minutes after its last sign of life)."
        )
    return lines


@click.command("gc")
@click.option("--storage-location", default=None, help=volume_view.LOCATION_HELP)
@context.output_option
def gc(storage_location: str | None) -> None:
    """Run the collection of a location's volume data: delete the packs no snapshot
    references, and rewrite those mostly unused.

    It marks what to delete first, and deletes only once every volume backup running at
    that moment has finished, so none loses a chunk it reuses: while one runs, the mark
    waits for the next 'volume gc'. Refused (exit 4) while a snapshot cannot be read.
    """
    loc, repo = session.open_repository(storage_location)
    heads.require_clean(repo)
    reports = verify.collect(repo, clock.SystemClock())
    if context.settings().output is context.OutputFormat.TABLE:
        for line in summary(reports):
            click.echo(line)
    else:
        output.emit_documents([document(loc.name, reports)], as_list=False, columns=(), rows=())
    problems = [p for r in reports.values() for p in r.problems]
    if problems:
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CollectionProblems(
            f"{loc.name}: collection done around objects that do not authenticate: "
            f"{problems[0]}{more}"
        )
