"""What crashed runs leave behind: backups and restores that never got their manifest.

A backup exists once its manifest lands (format §6); before that its name claim, key object
and data objects are *incomplete*: a run in progress, or the debris of one that died. They
are found by listing (no manifest, no tombstone), shown with the age of their newest object,
and removed, with the name claims that point to them, by :func:`remove`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections import abc

from strongroom import errors as base_errors
from strongroom.repository import backups, claims, documents, integrity, objects
from strongroom.storage import base as storage_base


@dataclasses.dataclass(frozen=True)
class Incomplete:
    kind: str  # "backup" or "restore"
    backup: str
    restore: str
    objects: int
    #: POSIX seconds of the newest object's last write; None where the store does not say.
    newest: float | None

    @property
    def id(self) -> str:
        return self.restore or self.backup

    def age(self, now: float) -> float | None:
        return None if self.newest is None else max(0.0, now - self.newest)


def _group(name: str) -> tuple[str, str] | None:
    """(backup id, restore id or "") an object belongs to, from its name."""
    parts = name.split("/")
    if parts[0] == "k" and len(parts) == 2 and documents.is_id(parts[1]):
        return parts[1], ""
    if parts[0] != "b" or len(parts) < 3 or not documents.is_id(parts[1]):
        return None
    if parts[2] == "r" and len(parts) >= 5 and documents.is_id(parts[3]):
        return parts[1], parts[3]
    return parts[1], ""


def find(backend: storage_base.Backend) -> list[Incomplete]:
    """Every backup or restore with stored objects but no manifest, oldest first; backups
    deleted through Strongroom (a tombstone, data kept by object lock) are not debris."""
    seen: dict[tuple[str, str], list[storage_base.ObjectInfo]] = {}
    manifests: set[tuple[str, str]] = set()
    for prefix in ("k/", "b/"):
        for info in backend.list(prefix):
            group = _group(info.name)
            if group is None:
                continue
            seen.setdefault(group, []).append(info)
            if info.name.endswith("/manifest"):
                manifests.add(group)
    deleted = {
        info.name.removeprefix(integrity.TOMBSTONES) for info in backend.list(integrity.TOMBSTONES)
    }
    found = []
    for (backup, restore), infos in seen.items():
        if (backup, restore) in manifests or backup in deleted:
            continue
        if restore and (backup, "") not in manifests:
            continue  # part of an incomplete backup, reported with it
        times = [i.modified for i in infos if i.modified is not None]
        kind = "restore" if restore else "backup"
        found.append(Incomplete(kind, backup, restore, len(infos), max(times, default=None)))
    return sorted(found, key=lambda i: (i.newest or 0.0, i.id))


def claims_of(backend: storage_base.Backend) -> dict[tuple[str, str], list[str]]:
    """(backup id, restore id or "") -> the name claims pointing to it; one read per claim."""
    found: dict[tuple[str, str], list[str]] = {}
    for info in backend.list(claims.PREFIX):
        with contextlib.suppress(base_errors.StrongroomError, ValueError):
            ids = json.loads(objects.read_small(backend, info.name, 4096))
            if isinstance(ids, dict) and isinstance(ids.get("backup"), str):
                key = (ids["backup"], str(ids.get("restore", "")))
                found.setdefault(key, []).append(info.name)
    return found


def remove(backend: storage_base.Backend, item: Incomplete, claim_names: abc.Iterable[str]) -> None:
    """Delete an incomplete backup or restore: objects, debris, then its name claims."""
    if item.restore:
        backend.purge(backups.restore_prefix(item.backup, item.restore))
    else:
        backend.delete(backups.key_name(item.backup))
        backend.purge(backups.backup_prefix(item.backup))
    for name in claim_names:
        backend.delete(name)
