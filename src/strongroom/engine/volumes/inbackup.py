"""Snapshots that belong to a backup (docs/format.md §10.5, "Snapshots in a backup").

The taker (a node agent) backs up a folder into :class:`InBackup`: data as its repository
handle stores it (a writer credential, usually), the tree and log under the backup, to the
backup's public recipient. The backup's writer then :func:`attach`es the reported part: it
reads the tree with the backup's identity, recounts what the taker claims, checks that every
chunk the tree names is indexed, and only then lists the part in the manifest.
"""

from __future__ import annotations

from collections import abc
from typing import Any, Protocol

from strongroom import errors as base_errors
from strongroom.archive import compress
from strongroom.crypto import agekeys, chunker
from strongroom.engine.volumes import errors, tree
from strongroom.repository import backups as stored
from strongroom.repository.volumes import catalog, parts
from strongroom.repository.volumes import keys as volkeys
from strongroom.storage import base as storage_base

#: Status fields a taker reports and the backup keeps as they are (after checking types).
_REPORTED = {"phase": str, "bytesNew": int, "warnings": int, "startTimestamp": str,
             "completionTimestamp": str, "dataEpoch": int}  # fmt: skip
PHASES = ("Completed", "PartiallyFailed")


class Source(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def backend(self) -> storage_base.Backend: ...

    def volume_keys(self) -> volkeys.VolumeKeys: ...

    def volume_chunker(self) -> chunker.Chunker: ...


class InBackup:
    """A snapshot target for backup ``backup`` (its id, epoch and public recipient)."""

    def __init__(
        self, source: Source, backup: str, epoch: int, recipient: agekeys.Recipient
    ) -> None:
        self._source = source
        self._backup = backup
        self._epoch = epoch
        self._recipient = recipient
        self.writer: parts.PartWriter | None = None

    @property
    def backend(self) -> storage_base.Backend:
        return self._source.backend

    def volume_keys(self) -> volkeys.VolumeKeys:
        return self._source.volume_keys()

    def volume_chunker(self) -> chunker.Chunker:
        return self._source.volume_chunker()

    def begin_snapshot(self) -> parts.PartWriter:
        self.writer = parts.PartWriter(
            self._source.backend, self._source.id, self._backup, self._epoch, self._recipient
        )
        return self.writer

    @property
    def part(self) -> parts.Part:
        """The committed part (after a backup into this target returned)."""
        if self.writer is None or self.writer.part is None:
            raise errors.VolumeError("no snapshot was committed into this backup")
        return self.writer.part


def attach(
    writer: stored.Writer,
    part: parts.Part,
    keys_of: abc.Callable[[int], volkeys.VolumeKeys],
    described: dict[str, Any],
    catalogs: dict[int, catalog.Catalog] | None = None,
) -> dict[str, Any]:
    """Check ``part`` and list it in the backup ``writer`` is writing; the snapshot's entry
    for ``status.volumeSnapshots``: ``described`` (pod, volume, claim, node, as the backup
    asked for them), the reported phase, epoch, times and new bytes, and the counts of the
    tree. Raises IntegrityError (naming the snapshot) for a part that does not hold up.
    ``catalogs``: the indexes already read, by epoch, kept for the next part."""
    where = f"volume snapshot {part.snapshot}"
    if part.backup != writer.ref.backup:
        raise base_errors.IntegrityError(f"{where} belongs to another backup")
    reported = _reported(part.status, where)
    keys = keys_of(reported["dataEpoch"])
    tree_type = parts.object_type(part.snapshot, "tree")
    try:
        writer.add_records(part.records)
        files = dirs = size = 0
        chunk_ids: set[bytes] = set()
        plain = compress.decompress_stream(writer.open(tree_type))
        for entry in tree.decode(plain, epoch=keys.epoch):
            if entry.type == tree.EntryType.DIR:
                dirs += 1
            else:
                files += 1
                size += entry.size if entry.type == tree.EntryType.FILE else 0
            chunk_ids.update(entry.chunk_ids())
        for _ in writer.open(parts.object_type(part.snapshot, "log")):
            pass
        catalogs = {} if catalogs is None else catalogs
        if keys.epoch not in catalogs:
            catalogs[keys.epoch] = catalog.load(writer.backend, keys)
        known = catalogs[keys.epoch]
        missing = [c for c in chunk_ids if known.get(c) is None]
        if missing:
            first = missing[0].hex()[:16]
            raise base_errors.IntegrityError(
                f"{where}: {len(missing)} of its chunks are in no index ({first}...)"
            )
    except BaseException:
        writer.drop_records(part.records)
        raise
    return {
        "id": part.snapshot,
        **described,
        **reported,
        "files": files,
        "dirs": dirs,
        "bytes": size,
    }


def _reported(status: dict[str, Any], where: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for field, kind in _REPORTED.items():
        value = status.get(field)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise base_errors.IntegrityError(f"{where}: its report has no valid {field!r}")
        found[field] = value
    if found["phase"] not in PHASES or found["dataEpoch"] < 1:
        raise base_errors.IntegrityError(f"{where}: its report is malformed")
    return found
