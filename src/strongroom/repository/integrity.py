"""What a storage writer cannot do unnoticed: remove, replace or roll back whole backups.

Each manifest names its predecessor (``previous``: id and manifest digest). A deletion made
through Strongroom leaves a MAC'd tombstone ``d/<backup-id>``, written before anything is
deleted. So:

- a backup that a later manifest names, that is gone and has no tombstone, was removed
  behind Strongroom's back ("vanished");
- a predecessor whose manifest digest differs from what its successor recorded was replaced
  or replayed;
- a client that remembers the newest backup it saw (its *head*) notices when that backup
  vanishes or when the repository is rolled back to an earlier state, even when nothing
  later points to it.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections import abc
from typing import Any

from strongroom.repository import backups, documents, errors, objects
from strongroom.storage import base as storage_base

TOMBSTONE_FORMAT = "strongroom.io/tombstone/v1"
TOMBSTONES = backups.TOMBSTONES


@dataclasses.dataclass(frozen=True)
class Head:
    """The newest backup a client has seen in a repository."""

    backup: str
    sha256: str
    name: str
    started: str

    @classmethod
    def of(cls, backup: backups.Backup) -> Head:
        started = str(backup.manifest.status.get("startTimestamp", ""))
        return cls(backup.manifest.backup, backup.manifest_record.sha256, backup.name, started)

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: abc.Mapping[str, Any]) -> Head:
        return cls(**{f.name: str(raw.get(f.name, "")) for f in dataclasses.fields(cls)})


def tombstone(repository: str, backup_id: str, deleted: str, mac_key: bytes, epoch: int) -> bytes:
    body = {
        "format": TOMBSTONE_FORMAT,
        "repository": repository,
        "backup": backup_id,
        "deleted": deleted,
        "epoch": epoch,
    }
    mac = hmac.digest(mac_key, documents.canonical(body), "sha256")
    return documents.canonical({**body, "mac": documents.b64(mac)})


def read_tombstones(
    backend: storage_base.Backend,
    repository: str,
    mac_keys: abc.Callable[[int], bytes],
    sealed: abc.Callable[[int, str, str, str, str], None] | None = None,
) -> dict[str, str]:
    """Backup id -> deletion time of every authentic tombstone; a forged one is a violation,
    and so is one of a closed epoch that its seal does not list (``sealed``)."""
    return {
        backup_id: deleted
        for backup_id, deleted, _ in tombstone_records(backend, repository, mac_keys, sealed)
    }


def tombstone_records(
    backend: storage_base.Backend,
    repository: str,
    mac_keys: abc.Callable[[int], bytes],
    sealed: abc.Callable[[int, str, str, str, str], None] | None = None,
) -> list[tuple[str, str, int]]:
    """(backup id, deletion time, epoch) of every tombstone, each authenticated."""
    return [
        read_tombstone(backend, info.name, repository, mac_keys, sealed)
        for info in backend.list(TOMBSTONES)
    ]


def read_tombstone(
    backend: storage_base.Backend,
    name: str,
    repository: str,
    mac_keys: abc.Callable[[int], bytes],
    sealed: abc.Callable[[int, str, str, str, str], None] | None = None,
) -> tuple[str, str, int]:
    """The backup id, deletion time and epoch of the tombstone ``name``, once authenticated."""
    doc = documents.parse_json(objects.read_small(backend, name, 4096), name)
    documents.expect_format(doc, TOMBSTONE_FORMAT, name)
    mac = documents.unb64(doc.pop("mac", None), name)
    epoch = documents.require(doc, "epoch", int, name)
    try:
        expected = hmac.digest(mac_keys(epoch), documents.canonical(doc), "sha256")
    except errors.IntegrityViolation as exc:
        raise errors.IntegrityViolation(f"{name}: tombstone of unknown epoch") from exc
    backup_id = documents.require(doc, "backup", str, name)
    if not hmac.compare_digest(mac, expected) or TOMBSTONES + backup_id != name:
        raise errors.IntegrityViolation(f"{name}: tombstone MAC does not verify")
    if doc.get("repository") != repository:
        raise errors.IntegrityViolation(f"{name}: tombstone of another repository")
    if sealed is not None:
        sealed(epoch, "tombstone", backup_id, "", name)
    return backup_id, str(doc.get("deleted", "")), epoch


def chain_problems(
    present: abc.Sequence[backups.Backup], deleted: abc.Mapping[str, str]
) -> list[str]:
    """Gaps and substitutions in the manifest chain."""
    by_id = {b.manifest.backup: b for b in present}
    problems = []
    for item in present:
        previous = item.manifest.previous
        if not previous:
            continue
        earlier = by_id.get(previous.get("backup", ""))
        if earlier is None:
            if previous.get("backup") not in deleted:
                problems.append(
                    f"backup {previous.get('backup')} (the one before {item.name!r}) has vanished "
                    "without a deletion record"
                )
        elif not hmac.compare_digest(earlier.manifest_record.sha256, previous.get("sha256", "")):
            problems.append(
                f"backup {earlier.name!r}: its manifest is not the one {item.name!r} recorded "
                "(replaced or replayed)"
            )
    return problems


def head_problems(
    remembered: Head | None, present: abc.Sequence[backups.Backup], deleted: abc.Mapping[str, str]
) -> list[str]:
    """What changed behind this client's back since it last saw the repository."""
    if remembered is None:
        return []
    for item in present:
        if item.manifest.backup == remembered.backup:
            if not hmac.compare_digest(item.manifest_record.sha256, remembered.sha256):
                return [
                    f"backup {item.name!r} ({remembered.backup}): its manifest changed since this "
                    "client saw it"
                ]
            return []
    if remembered.backup in deleted:
        return []
    return [
        f"backup {remembered.backup} (the newest this client saw, {remembered.started}) has "
        "vanished without a deletion record: deleted behind Strongroom's back or rolled back"
    ]


def chain_depths(present: abc.Sequence[backups.Backup]) -> dict[str, int]:
    """How many predecessors each backup has in the chain (``previous`` links among
    ``present``): orders backups started within the same second."""
    previous = {b.id: (b.manifest.previous or {}).get("backup") for b in present}
    depths: dict[str, int] = {}
    for start in previous:
        path: list[str] = []
        current: str | None = start
        while current in previous and current not in depths and current not in path:
            path.append(current)
            current = previous[current]
        base = depths.get(current, -1) if current in previous else -1
        for item in reversed(path):
            base += 1
            depths[item] = base
    return depths


def tip(present: abc.Sequence[backups.Backup]) -> backups.Backup | None:
    """The newest backup: the end of the chain (no later manifest names it), the latest
    started among several ends (concurrent writers fork the chain)."""
    named = {(b.manifest.previous or {}).get("backup") for b in present}
    ends = [b for b in present if b.manifest.backup not in named] or list(present)
    if not ends:
        return None
    return max(ends, key=lambda b: (str(b.manifest.status.get("startTimestamp", "")), b.id))


def newest(present: abc.Sequence[backups.Backup]) -> Head | None:
    latest = tip(present)
    return None if latest is None else Head.of(latest)
