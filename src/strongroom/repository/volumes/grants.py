"""Restore grants: what a node agent needs to restore one snapshot of one backup, no more.

A node agent holds a writer credential, which opens nothing. To restore a pod volume it gets,
for that restore only, a grant made by the client running the restore (which holds a keyring):
the tree's record (as the backup's authenticated manifest lists it), the backup's identity (to
open that tree), and the keys of exactly the packs holding the snapshot's chunks. With it the
agent reads that snapshot; other backups' trees and other packs stay closed to it. The grant
travels as a Secret in the agents' namespace and is deleted once the restore is done
(docs/node-agent.md, docs/threat-model.md "The node agent").
"""

from __future__ import annotations

import dataclasses
import json
from collections import abc

from strongroom.crypto import agekeys
from strongroom.repository import documents, errors, objects
from strongroom.repository.volumes import catalog as catalog_mod
from strongroom.repository.volumes import packs
from strongroom.storage import base as storage_base

FORMAT = "strongroom.io/restore-grant/v1"
#: A grant is a Secret's value: at most 1 MiB, about 20,000 packs (some 600 GiB of data).
MAX_SIZE = 1 << 20


@dataclasses.dataclass(frozen=True, repr=False)
class Grant:
    repository: str
    backup: str
    backup_epoch: int
    snapshot: str
    data_epoch: int
    tree: objects.Record
    identity: agekeys.Identity
    pack_keys: dict[str, bytes]

    def __repr__(self) -> str:
        return f"Grant(backup={self.backup}, snapshot={self.snapshot}, packs={len(self.pack_keys)})"

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "repository": self.repository,
                "backup": self.backup,
                "backupEpoch": self.backup_epoch,
                "snapshot": self.snapshot,
                "dataEpoch": self.data_epoch,
                "tree": self.tree.to_dict(),
                "identity": self.identity.encode(),
                "packs": {k: documents.b64(v) for k, v in sorted(self.pack_keys.items())},
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Grant:
        """A grant as given; IntegrityViolation for anything malformed."""
        if len(data) > MAX_SIZE:
            raise errors.IntegrityViolation(f"{where}: the grant is too large")
        doc = documents.parse_json(data, where)
        if doc.get("format") != FORMAT:
            raise errors.IntegrityViolation(f"{where}: not a restore grant")
        keys = doc.get("packs")
        if not isinstance(keys, dict):
            raise errors.IntegrityViolation(f"{where}: malformed pack keys")
        pack_keys = {}
        for pack_id, text in keys.items():
            key = documents.unb64(text, where)
            if not isinstance(pack_id, str) or len(key) != packs.KEY_SIZE:
                raise errors.IntegrityViolation(f"{where}: malformed pack key")
            pack_keys[pack_id] = key
        try:
            identity = agekeys.Identity.parse(documents.require(doc, "identity", str, where))
        except Exception as exc:  # InvalidKeyText: a one-line cause, no key text
            raise errors.IntegrityViolation(f"{where}: malformed identity") from exc
        return cls(
            repository=documents.require(doc, "repository", str, where),
            backup=documents.require(doc, "backup", str, where),
            backup_epoch=documents.require(doc, "backupEpoch", int, where),
            snapshot=documents.require(doc, "snapshot", str, where),
            data_epoch=documents.require(doc, "dataEpoch", int, where),
            tree=objects.Record.from_dict(doc.get("tree"), where),
            identity=identity,
            pack_keys=pack_keys,
        )

    def open_tree(self, backend: storage_base.Backend) -> abc.Iterator[bytes]:
        """The snapshot's tree (compressed), verified against its record and binding."""
        ref = objects.Ref(self.repository, self.backup, self.tree.type, self.backup_epoch)
        return objects.read(backend, self.tree, ref, [self.identity])


def pack_keys_for(
    backend: storage_base.Backend,
    repository: str,
    epoch: int,
    identity: agekeys.Identity,
    known: catalog_mod.Catalog,
    chunk_ids: abc.Iterable[bytes],
) -> dict[str, bytes]:
    """The keys of the packs holding ``chunk_ids`` (each key file opened with ``identity``)."""
    wanted: set[str] = set()
    for chunk_id in chunk_ids:
        where = known.get(chunk_id)
        if where is None:
            raise errors.IntegrityViolation(f"chunk {chunk_id.hex()[:16]} is in no index")
        wanted.add(where.pack_id)
    found = {}
    for pack_id in sorted(wanted):
        name = packs.name(pack_id)
        with backend.get(name, 0, None) as reader:
            prefix = reader.read(packs.KEYFILE_MAX)
        keyfile = prefix[: packs.keyfile_length(prefix, name)]
        found[pack_id] = packs.unwrap_key(repository, pack_id, epoch, keyfile, identity)
    return found
