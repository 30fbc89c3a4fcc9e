"""``strongroom backup delete``: crypto-shred a backup, then delete what storage allows.

``--expired`` deletes every backup past its expiration (start + ttl), the job Velero's garbage
collector does; in the direct mode it runs when asked (a server runs it on a schedule). Each
goes the way of ``backup delete NAME``: its tombstone first, then its key, then the rest.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import click

from strongroom import clock, errors
from strongroom.cli import flags, heads, locate
from strongroom.engine.backup import durations, expiry
from strongroom.repository import errors as repo_errors
from strongroom.repository import repo as repo_mod


class PartiallyDeleted(errors.StrongroomError):
    exit_code = errors.ExitCode.PARTIALLY_FAILED


class NotShredded(errors.PermissionDeniedError):
    pass


def _shred(repo: repo_mod.Repository, name: str) -> None:
    failed = repo.delete_backup(name)
    if any(f.startswith("k/") for f in failed):
        raise NotShredded(
            f"backup {name}: its key could not be deleted, so it is NOT shredded "
            "(keep k/ out of object lock and give the deleting identity delete rights)"
        )
    if failed:
        raise PartiallyDeleted(
            f"backup {name} is shredded (its key is gone) but {len(failed)} objects could not "
            f"be deleted, e.g. {failed[0]}"
        )


def _delete_expired(repo: repo_mod.Repository, confirm: bool) -> None:
    heads.require_clean(repo)
    due = expiry.expired(repo.backups(), clock.SystemClock().now())
    if not due:
        click.echo("No backups have expired.")
        return
    if not confirm:
        names = ", ".join(e.name for e in due)
        click.confirm(f"Delete {len(due)} expired backups ({names}) for good?", abort=True)
    problems: list[NotShredded | PartiallyDeleted] = []
    for each in due:
        try:
            _shred(repo, each.name)
        except repo_errors.BackupNotFound:
            continue  # deleted by someone else since the listing
        except (NotShredded, PartiallyDeleted) as exc:
            problems.append(exc)
            continue
        click.echo(f"Backup {each.name} deleted (expired {clock.rfc3339(each.expiration)}).")
    if problems:
        worst = next((p for p in problems if isinstance(p, NotShredded)), problems[0])
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise type(worst)(f"{worst}{more}")


def _delete_incomplete(repo: repo_mod.Repository, older_than: float, confirm: bool) -> None:
    now = time.time()
    due = []
    for item in repo.incomplete():
        age = item.age(now)  # younger ones may be runs in progress
        if age is None or age >= older_than:
            due.append(item)
    if not due:
        click.echo("No incomplete backups or restores old enough to remove.")
        return
    if not confirm:
        click.confirm(f"Remove {len(due)} incomplete backups and restores?", abort=True)
    repo.remove_incomplete(due)
    for item in due:
        click.echo(f"Incomplete {item.kind} {item.id} removed ({item.objects} objects).")


def _targets(
    names: tuple[str, ...], all_: bool, selector: str | None, storage_location: str | None
) -> list[tuple[str, repo_mod.Repository]]:
    """(name, repository) of every backup to delete: NAMES wherever they are claimed (an
    incomplete one too), or every backup (--all) or those matching --selector."""
    if names:
        return [(n, locate.claimed("backup", n, storage_location)[1]) for n in names]
    found = locate.select("backup", (), selector if not all_ else None, storage_location)
    return [(f.item.name, f.repo) for f in found]


def _per_location(storage_location: str | None, run: Callable[[repo_mod.Repository], None]) -> None:
    opened = list(locate.each(storage_location))
    for loc, repo in opened:
        if len(opened) > 1:
            click.echo(f"Location {loc.name}:")
        run(repo)


@click.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Delete every backup.")
@flags.label_selector("Delete")
@click.option("--expired", is_flag=True, help="Delete every backup past its expiration.")
@click.option(
    "--incomplete",
    is_flag=True,
    help="Remove backups and restores that never completed (debris of killed runs).",
)
@click.option(
    "--older-than",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="With --incomplete: only those whose newest object is this old (younger ones may "
    "still be running).",
)
@click.option("--confirm", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--storage-location",
    default=None,
    help="Location to use (default: the one holding each NAME; every one otherwise).",
)
def delete(
    names: tuple[str, ...],
    all_: bool,
    selector: str | None,
    expired: bool,
    incomplete: bool,
    older_than: str,
    confirm: bool,
    storage_location: str | None,
) -> None:
    """Delete backups NAMES (or every one with --all, those matching --selector, or with
    --expired those past their expiration): each one's key first, so it is unreadable even
    where data stays. --incomplete removes what killed runs left (see 'backup get')."""
    modes = (bool(names), all_, selector is not None, expired, incomplete)
    if sum(modes) != 1:
        raise errors.UsageError(
            "give one of: backup NAMES, --all, --selector, --expired, --incomplete"
        )
    if not confirm and not sys.stdin.isatty():
        raise errors.UsageError("deleting a backup cannot be undone: add --confirm")
    if incomplete:
        threshold = durations.parse(older_than, "--older-than").total_seconds()
        _per_location(storage_location, lambda r: _delete_incomplete(r, threshold, confirm))
        return
    if expired:
        _per_location(storage_location, lambda r: _delete_expired(r, confirm))
        return
    targets = _targets(names, all_, selector, storage_location)
    if not targets:
        click.echo("No backups match.")
        return
    if not confirm:
        listed = ", ".join(name for name, _ in targets)
        click.confirm(f"Delete {len(targets)} backups ({listed}) for good?", abort=True)
    for name, repo in targets:
        _shred(repo, name)
        click.echo(f"Backup {name} deleted.")
