"""Every location at once, as Velero's commands see every backup storage location.

Without ``--storage-location``, commands that read backups and restores search every
configured location. A location that cannot be opened (unreachable, locked, read-only
trouble) is a warning naming it; tampering found in one (exit 4) is never a warning. A name
found in several locations needs ``--storage-location``; "not found" names where it looked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import click

from strongroom import errors
from strongroom.cli import backup_view, config, context, heads, session
from strongroom.engine.backup import selectors
from strongroom.repository import backups as stored
from strongroom.repository import errors as repo_errors
from strongroom.repository import repo as repo_mod

Opened = tuple[config.Location, repo_mod.Repository]


class Ambiguous(errors.UsageError):
    pass


class NotFoundAnywhere(errors.NotFoundError):
    pass


def each(storage_location: str | None, *, audit: bool = False) -> Iterator[Opened]:
    """The named location, or every configured one that opens. With ``audit``, each is
    checked against what this client remembers (rollback, vanished backups): exit 4."""
    if storage_location is not None:
        opened = session.open_repository(storage_location)
        if audit:
            heads.require_clean(opened[1])
        yield opened
        return
    cfg = config.load(context.settings().config_path)
    if not cfg.locations:
        cfg.location(None)  # raises: no location configured
    failures: list[errors.StrongroomError] = []
    for loc in cfg.locations:
        try:
            opened = session.open_repository(loc.name)
            if audit:
                heads.require_clean(opened[1])
        except errors.IntegrityError:
            raise
        except errors.StrongroomError as exc:
            click.echo(f"warning: location {loc.name} skipped: {exc}", err=True)
            failures.append(exc)
            continue
        yield opened
    if len(failures) == len(cfg.locations):
        raise failures[0]


def claimed(kind: str, name: str, storage_location: str | None) -> Opened:
    """The one location where ``name`` is claimed: a committed item, or an incomplete one
    (what ``delete`` needs: a killed run's name can be freed)."""
    hits = [opened for opened in each(storage_location) if opened[1].claimed(kind, name)]
    return _one(kind, name, hits, storage_location)


def _one(kind: str, name: str, hits: list[Opened], storage_location: str | None) -> Opened:
    if not hits:
        where = storage_location or ", ".join(
            loc.name for loc in config.load(context.settings().config_path).locations
        )
        raise NotFoundAnywhere(f"{kind} {name!r} not found (searched: {where})")
    if len(hits) > 1:
        listed = ", ".join(loc.name for loc, _ in hits)
        raise Ambiguous(f"{kind} {name!r} exists in locations {listed}: add --storage-location")
    return hits[0]


def find(kind: str, name: str, storage_location: str | None) -> tuple[Opened, stored.Backup]:
    """The one location holding backup (or restore) ``name``, and the item itself."""
    hits: list[tuple[Opened, stored.Backup]] = []
    searched: list[str] = []
    missing = repo_errors.BackupNotFound if kind == "backup" else repo_errors.RestoreNotFound
    for loc, repo in each(storage_location):
        searched.append(loc.name)
        try:
            item = repo.backup(name) if kind == "backup" else repo.restore(name)
        except missing:
            continue
        hits.append(((loc, repo), item))
    if not hits:
        raise NotFoundAnywhere(f"{kind} {name!r} not found (searched: {', '.join(searched)})")
    if len(hits) > 1:
        where = ", ".join(opened[0].name for opened, _ in hits)
        raise Ambiguous(f"{kind} {name!r} exists in locations {where}: add --storage-location")
    return hits[0]


@dataclasses.dataclass(frozen=True)
class Found:
    location: config.Location
    repo: repo_mod.Repository
    item: stored.Backup


def select(
    kind: str,
    names: tuple[str, ...],
    selector: str | None,
    storage_location: str | None,
    *,
    audit: bool = True,
    opened: list[Opened] | None = None,
) -> list[Found]:
    """NAMES (each from the one location holding it), or every item of every location
    searched whose labels match ``selector`` (Velero's ``-l``), as ``get`` and ``describe``
    pick them. Names and a selector together are refused. ``opened`` receives every
    location searched when listing."""
    if names and selector is not None:
        raise errors.UsageError("give NAMES or --selector, not both")
    wanted = selectors.parse(selector) if selector is not None else None
    found: list[Found] = []
    if names:
        for name in names:
            (loc, repo), item = find(kind, name, storage_location)
            if audit:
                heads.require_clean(repo)
            found.append(Found(loc, repo, item))
        return found
    for loc, repo in each(storage_location, audit=audit):
        if opened is not None:
            opened.append((loc, repo))
        items = repo.backups() if kind == "backup" else repo.restores()
        found += [
            Found(loc, repo, item)
            for item in items
            if wanted is None or wanted.matches(labels(item, loc.name))
        ]
    return found


def labels(item: stored.Backup, location: str) -> dict[str, str]:
    """The labels a selector sees: the item's own, and Strongroom's (storage location,
    writer), as ``-o json`` shows them."""
    found = backup_view.document(item, location)["metadata"].get("labels") or {}
    return {str(k): str(v) for k, v in found.items()}
