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

from strongroom import errors as base_errors
from strongroom.crypto import signing
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
    #: The registered writer whose signature authenticated this manifest when it was read;
    #: "" for one MAC'd by a client holding the keyring. Not part of the body.
    writer: str = ""

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

    def seal(self, mac_key: bytes | None, signer: Signer | None = None) -> bytes:
        """The stored payload: MAC'd with ``mac_key`` (a client holding the keyring), or
        signed by a writer that cannot decrypt (``signer``: writer id and signing key)."""
        body = self.body()
        if signer is not None:
            writer, key = signer
            signature = key.sign(documents.canonical(body))
            body["signature"] = {"writer": writer, "ed25519": documents.b64(signature)}
        elif mac_key is not None:
            body["mac"] = documents.b64(hmac.digest(mac_key, documents.canonical(body), "sha256"))
        else:
            raise ValueError("a manifest needs a MAC key or a signer")
        data = documents.canonical(body)
        return data + b" " * (-len(data) % PAD_TO)


Signer = tuple[str, signing.SigningKey]


def _authenticate(
    doc: dict[str, Any],
    where: str,
    epoch: int,
    mac_keys: abc.Callable[[int], bytes],
    writer_keys: abc.Callable[[str], bytes] | None,
) -> str:
    """Check the manifest's signature or MAC; the signing writer's id, or "" for a MAC."""
    signature = doc.pop("signature", None)
    if signature is not None:
        if not isinstance(signature, dict) or writer_keys is None:
            raise errors.IntegrityViolation(f"{where}: manifest signature cannot be checked")
        writer: str = documents.require(signature, "writer", str, where)
        raw = documents.unb64(signature.get("ed25519"), where)
        try:
            signing.verify(writer_keys(writer), documents.canonical(doc), raw)
        except base_errors.IntegrityError as exc:
            raise errors.IntegrityViolation(
                f"{where}: manifest signature of writer {writer}: {exc}"
            ) from exc
        return writer
    mac = documents.unb64(doc.pop("mac", None), where)
    expected = hmac.digest(mac_keys(epoch), documents.canonical(doc), "sha256")
    if not hmac.compare_digest(mac, expected):
        raise errors.IntegrityViolation(f"{where}: manifest MAC does not verify")
    return ""


def open_(
    data: bytes,
    where: str,
    mac_keys: abc.Callable[[int], bytes],
    writer_keys: abc.Callable[[str], bytes] | None = None,
) -> Manifest:
    """Parse and authenticate a manifest: its MAC (``mac_keys(epoch)``), or the signature of
    a registered writer (``writer_keys(writer id)`` gives its verified public key)."""
    doc = documents.parse_json(data, where)
    documents.expect_format(doc, FORMAT, where)
    epoch = documents.require(doc, "epoch", int, where)
    writer = _authenticate(doc, where, epoch, mac_keys, writer_keys)
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
        writer=writer,
    )
