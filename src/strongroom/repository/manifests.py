"""Manifests: the last object of a backup or restore, listing and vouching for the others.

See docs/format.md §6. The payload is canonical JSON padded with spaces to a multiple of
:data:`PAD_TO` bytes (JSON ignores trailing white space), so its length says little about the
names inside.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections import abc
from typing import Any

from strongroom.repository import documents, errors
from strongroom.repository.objects import Record

FORMAT = "strongroom.io/manifest/v1"
PAD_TO = 256


@dataclasses.dataclass(frozen=True)
class Manifest:
    repository: str
    backup: str
    restore: str
    epoch: int
    kind: str
    name: str
    spec: dict[str, Any]
    status: dict[str, Any]
    objects: tuple[Record, ...]
    previous: dict[str, str] | None

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "repository": self.repository,
            "backup": self.backup,
            "restore": self.restore,
            "epoch": self.epoch,
            "kind": self.kind,
            "name": self.name,
            "spec": self.spec,
            "status": self.status,
            "objects": [o.to_dict() for o in self.objects],
            "previous": self.previous,
        }

    def record(self, type_: str) -> Record:
        for record in self.objects:
            if record.type == type_:
                return record
        raise errors.IntegrityViolation(
            f"manifest of {self.kind.lower()} {self.name!r} lists no {type_!r} object"
        )

    def seal(self, mac_key: bytes) -> bytes:
        body = self.body()
        body["mac"] = documents.b64(hmac.digest(mac_key, documents.canonical(body), "sha256"))
        data = documents.canonical(body)
        return data + b" " * (-len(data) % PAD_TO)


def open_(data: bytes, where: str, mac_keys: abc.Callable[[int], bytes]) -> Manifest:
    """Parse and authenticate a manifest; ``mac_keys(epoch)`` gives that epoch's MAC key."""
    doc = documents.parse_json(data, where)
    documents.expect_format(doc, FORMAT, where)
    epoch = documents.require(doc, "epoch", int, where)
    mac = documents.unb64(doc.pop("mac", None), where)
    expected = hmac.digest(mac_keys(epoch), documents.canonical(doc), "sha256")
    if not hmac.compare_digest(mac, expected):
        raise errors.IntegrityViolation(f"{where}: manifest MAC does not verify")
    previous = doc.get("previous")
    if previous is not None and not (
        isinstance(previous, dict) and all(isinstance(v, str) for v in previous.values())
    ):
        raise errors.IntegrityViolation(f"{where}: malformed 'previous'")
    return Manifest(
        repository=documents.require(doc, "repository", str, where),
        backup=documents.require(doc, "backup", str, where),
        restore=documents.require(doc, "restore", str, where),
        epoch=epoch,
        kind=documents.require(doc, "kind", str, where),
        name=documents.require(doc, "name", str, where),
        spec=documents.require(doc, "spec", dict, where),
        status=documents.require(doc, "status", dict, where),
        objects=tuple(
            Record.from_dict(o, where) for o in documents.require(doc, "objects", list, where)
        ),
        previous=previous,
    )
