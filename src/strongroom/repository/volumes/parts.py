"""Volume snapshots that belong to a backup (docs/format.md §10.5, "Snapshots in a backup").

Whoever takes the snapshot (a node agent, with a writer credential) knows the backup's id,
epoch and public recipient only; it stores the snapshot's tree and log under the backup with
a :class:`PartWriter` and hands the resulting :class:`Part` to the client writing the backup,
which checks it (:meth:`strongroom.repository.backups.Writer.add_snapshot`) before listing it.
A part travels through the cluster (a PodVolumeBackup's status), so :meth:`Part.from_json`
treats it as hostile: every field is checked, and nothing in it is trusted until the backup's
writer has read the objects it names with the backup's identity.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections import abc
from typing import Any

from strongroom import errors as base_errors
from strongroom.crypto import agekeys
from strongroom.repository import documents, errors, objects
from strongroom.storage import base as storage_base

TYPES = ("tree", "log")
_ID = re.compile(r"[a-z2-7]{26}")
_HEX = re.compile(r"[0-9a-f]{64}")


def object_type(snapshot: str, kind: str) -> str:
    """The manifest type of a part's object: ``s/<snapshot>/tree`` or ``s/<snapshot>/log``."""
    return f"s/{snapshot}/{kind}"


def object_name(backup: str, snapshot: str, kind: str) -> str:
    return f"b/{backup}/s/{snapshot}/{kind}"


@dataclasses.dataclass(frozen=True)
class Part:
    """A stored snapshot of a backup, not yet listed by its manifest."""

    backup: str
    snapshot: str
    records: tuple[objects.Record, ...]
    #: What the snapshot's taker says (phase, counts, times, data epoch); checked or
    #: recounted by the backup's writer.
    status: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "backup": self.backup,
            "snapshot": self.snapshot,
            "objects": [r.to_dict() for r in self.records],
            "status": self.status,
        }

    @classmethod
    def from_json(cls, raw: object, where: str) -> Part:
        """A part as reported; raises IntegrityViolation for anything malformed."""
        if not isinstance(raw, dict):
            raise errors.IntegrityViolation(f"{where}: not a volume snapshot report")
        backup, snapshot = raw.get("backup"), raw.get("snapshot")
        if not (isinstance(backup, str) and _ID.fullmatch(backup)):
            raise errors.IntegrityViolation(f"{where}: malformed backup id")
        if not (isinstance(snapshot, str) and _ID.fullmatch(snapshot)):
            raise errors.IntegrityViolation(f"{where}: malformed snapshot id")
        listed = raw.get("objects")
        if not isinstance(listed, list) or len(listed) != len(TYPES):
            raise errors.IntegrityViolation(f"{where}: a snapshot has a tree and a log")
        records = tuple(objects.Record.from_dict(r, where) for r in listed)
        for record, kind in zip(records, TYPES, strict=True):
            if (
                record.type != object_type(snapshot, kind)
                or record.name != object_name(backup, snapshot, kind)
                or not _HEX.fullmatch(record.sha256)
                or record.size <= 0
            ):
                raise errors.IntegrityViolation(f"{where}: {kind} object malformed")
        status = raw.get("status")
        if not isinstance(status, dict) or len(documents.canonical(status)) > 4096:
            raise errors.IntegrityViolation(f"{where}: malformed status")
        return cls(backup, snapshot, records, status)


class PartWriter:
    """Stores one snapshot's tree and log under backup ``backup`` (the engine's
    snapshot writer, for a snapshot that belongs to a backup)."""

    def __init__(
        self,
        backend: storage_base.Backend,
        repository: str,
        backup: str,
        epoch: int,
        recipient: agekeys.Recipient,
    ) -> None:
        self._backend = backend
        self._repository = repository
        self._backup = backup
        self._epoch = epoch
        self._recipient = recipient
        self.snapshot_id = documents.new_id()
        self._records: list[objects.Record] = []
        self._pending: list[str] = []
        self.part: Part | None = None

    def put(self, kind: str, plaintext: abc.Iterable[bytes]) -> objects.Record:
        if kind not in TYPES or any(r.type.endswith("/" + kind) for r in self._records):
            raise ValueError(f"a snapshot of a backup stores one tree and one log, not {kind!r}")
        type_ = object_type(self.snapshot_id, kind)
        name = object_name(self._backup, self.snapshot_id, kind)
        ref = objects.Ref(self._repository, self._backup, type_, self._epoch)
        self._pending.append(name)
        record = objects.put(self._backend, name, ref, [self._recipient], plaintext)
        self._pending.remove(name)
        self._records.append(record)
        return record

    def commit(self, spec: dict[str, Any], status: dict[str, Any]) -> Part:
        """The part, for the backup's writer to list; nothing more is stored. Of ``spec``
        only the data epoch is kept: the backup's manifest says what the snapshot was of."""
        status = {**status, "dataEpoch": spec.get("dataEpoch")}
        by_kind = {r.type.rsplit("/", 1)[1]: r for r in self._records}
        if set(by_kind) != set(TYPES):
            raise ValueError("a snapshot of a backup needs its tree and its log")
        self.part = Part(self._backup, self.snapshot_id, tuple(by_kind[k] for k in TYPES), status)
        return self.part

    def abort(self) -> None:
        """Remove what was stored (safe to call twice)."""
        for name in [*self._pending, *(r.name for r in self._records)]:
            with contextlib.suppress(base_errors.StrongroomError):
                self._backend.delete(name)
        self._records.clear()
        self._pending.clear()
