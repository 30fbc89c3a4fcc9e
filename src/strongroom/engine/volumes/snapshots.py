"""Finding snapshots and reading their trees (format §10.5): standalone ones, and those that
belong to a backup (listed in its ``status.volumeSnapshots``, tree at ``s/<id>/tree``)."""

from __future__ import annotations

import dataclasses
from collections import abc
from typing import Any

from strongroom import errors as base_errors
from strongroom.archive import compress
from strongroom.engine.volumes import tree
from strongroom.repository import backups as stored
from strongroom.repository import repo as repo_mod
from strongroom.repository.volumes import catalog, collect, grants


class SnapshotNotFound(base_errors.NotFoundError):
    """No snapshot has that id (or the location has none, for ``latest``)."""


def spec(item: stored.Backup) -> dict[str, Any]:
    return dict(item.manifest.spec)


def status(item: stored.Backup) -> dict[str, Any]:
    return dict(item.manifest.status)


def data_epoch(item: stored.Backup) -> int:
    value = item.manifest.spec.get("dataEpoch")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise base_errors.IntegrityError(f"snapshot {item.id}: its manifest has no data epoch")
    return value


def find(repository: repo_mod.Repository, wanted: str) -> stored.Backup:
    """The snapshot with id ``wanted``, or the newest one for ``latest``."""
    items = repository.snapshots()
    if wanted == "latest":
        if not items:
            raise SnapshotNotFound(f"{repository.location} holds no volume snapshot")
        return items[-1]
    for item in items:
        if item.id == wanted:
            return item
    raise SnapshotNotFound(f"no volume snapshot {wanted!r} in {repository.location}")


def parent_of(
    repository: repo_mod.Repository, path: str, host: str, epoch: int
) -> stored.Backup | None:
    """The newest snapshot of ``path`` on ``host`` whose data is of ``epoch``: the parent."""
    for item in reversed(repository.snapshots()):
        s = item.manifest.spec
        if s.get("path") == path and s.get("host") == host and s.get("dataEpoch") == epoch:
            return item
    return None


def entries(item: stored.Backup) -> abc.Iterator[tree.Entry]:
    """The snapshot's tree, decrypted, decompressed and parsed as it streams."""
    plain = compress.decompress_stream(item.open("tree"))
    return tree.decode(plain, epoch=data_epoch(item))


def known_entries(item: stored.Backup) -> abc.Iterator[tree.Known]:
    """:func:`entries`, each with its line as stored."""
    plain = compress.decompress_stream(item.open("tree"))
    return tree.decode_known(plain, epoch=data_epoch(item))


@dataclasses.dataclass(frozen=True)
class Held:
    """A snapshot and the committed record holding its tree: itself, or its backup."""

    item: stored.Backup
    id: str
    tree_type: str
    data_epoch: int
    #: The backup's entry for it (``status.volumeSnapshots``); {} for a standalone one.
    entry: dict[str, Any]


def standalone(item: stored.Backup) -> Held:
    return Held(item, item.id, "tree", data_epoch(item), {})


def of(snapshot: stored.Backup | Held) -> Held:
    return snapshot if isinstance(snapshot, Held) else standalone(snapshot)


def in_backup(item: stored.Backup) -> list[Held]:
    """The volume snapshots backup ``item`` lists (its manifest is authenticated)."""
    found = []
    listed = item.manifest.status.get("volumeSnapshots") or []
    if not isinstance(listed, list):
        raise base_errors.IntegrityError(f"backup {item.name}: malformed volume snapshot list")
    for entry in listed:
        snapshot = entry.get("id") if isinstance(entry, dict) else None
        epoch = entry.get("dataEpoch") if isinstance(entry, dict) else None
        if not isinstance(snapshot, str) or not isinstance(epoch, int) or isinstance(epoch, bool):
            raise base_errors.IntegrityError(f"backup {item.name}: malformed volume snapshot")
        found.append(Held(item, snapshot, f"s/{snapshot}/tree", epoch, dict(entry)))
    return found


def every(repository: repo_mod.Repository) -> list[Held]:
    """Every committed snapshot, standalone or in a backup; oldest record first."""
    found = []
    for item in repository.committed():
        if item.manifest.kind == "VolumeSnapshot":
            found.append(standalone(item))
        else:
            found.extend(in_backup(item))
    return found


def held_entries(held: Held) -> abc.Iterator[tree.Entry]:
    """The tree of ``held``, decrypted, decompressed and parsed as it streams."""
    plain = compress.decompress_stream(held.item.open(held.tree_type))
    return tree.decode(plain, epoch=held.data_epoch)


def in_backup_matching(
    item: stored.Backup, wanted: str | None, claim: tuple[str, str] | None
) -> Held:
    """The snapshot of backup ``item`` with id ``wanted``, or of claim ``(namespace, name)``;
    SnapshotNotFound naming what the backup holds otherwise."""
    held = in_backup(item)
    for each in held:
        if each.id == wanted or (
            claim is not None and (each.entry.get("namespace"), each.entry.get("pvc")) == claim
        ):
            return each
    asked = f"snapshot {wanted!r}" if wanted else f"claim {claim[0]}/{claim[1]}" if claim else ""
    claims = sorted(f"{h.entry.get('namespace')}/{h.entry.get('pvc')}" for h in held if
                    h.entry.get("pvc"))  # fmt: skip
    holds = f"its claims: {', '.join(claims)}" if claims else "it holds no claim's volume"
    raise SnapshotNotFound(f"backup {item.name} has no volume {asked} ({holds})")


def grant(
    repository: repo_mod.Repository,
    held: Held,
    catalogs: dict[int, catalog.Catalog] | None = None,
) -> grants.Grant:
    """What restoring ``held`` needs and nothing more (a node agent's restore grant): the tree's
    record and the backup's identity, and the keys of the packs holding its chunks.
    ``catalogs``: the indexes already read, by epoch, kept for the next grant."""
    keys = repository.volume_keys(held.data_epoch)
    assert keys.identity is not None  # a keyring's keys
    chunk_ids: set[bytes] = set()
    for entry in held_entries(held):
        chunk_ids.update(entry.chunk_ids())
    catalogs = {} if catalogs is None else catalogs
    if held.data_epoch not in catalogs:
        doomed = collect.candidate_packs(repository.backend, keys)
        catalogs[held.data_epoch] = catalog.load(repository.backend, keys, exclude=doomed)
    known = catalogs[held.data_epoch]
    manifest = held.item.manifest
    return grants.Grant(
        repository=manifest.repository,
        backup=manifest.backup,
        backup_epoch=manifest.epoch,
        snapshot=held.id,
        data_epoch=held.data_epoch,
        tree=manifest.record(held.tree_type),
        identity=held.item.identity,
        pack_keys=grants.pack_keys_for(
            repository.backend,
            manifest.repository,
            held.data_epoch,
            keys.identity,
            known,
            chunk_ids,
        ),  # fmt: skip
    )
