"""Backup writers that cannot decrypt: credentials, registration, and the writing side.

An administrator (who can open the repository) registers a writer: its Ed25519 public key
goes into ``w/<writer-id>``, MAC'd with the keyring, and the writer receives a credential
file holding only what writing needs:

- the public recipients a backup key is encrypted to (the current epoch's repository
  recipient and the offline recovery recipients);
- its Ed25519 signing key, with which it signs its manifests instead of MAC'ing them;
- the name-tag key, so its backups can claim their names (``n/<tag>``);
- (v2) the epoch's volume-data secrets that storing chunks needs (format §6.2): the chunker's,
  the chunk-id key, the index key and the session MAC key, and the repository recipient that
  pack keys are wrapped to. None of them opens a pack, a tree or a backup key.

Holding that file, a writer creates backups but can open none of them, not even its own once
written: every backup key is encrypted to recipients whose secrets it does not have. A stolen
credential lets its thief write backups that look authentic (until the writer is removed) and
test guesses of backup names against the name claims, and (v2) read the indexes (which chunk
ids are stored, in which packs, of what sizes) and test whether a chunk it knows is stored;
it decrypts nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import json
from collections import abc
from typing import Any

from strongroom import clock
from strongroom import errors as base_errors
from strongroom.crypto import agekeys, signing
from strongroom.crypto import chunker as chunker_mod
from strongroom.repository import backups, claims, documents, errors, objects, seals
from strongroom.repository import header as header_mod
from strongroom.repository.volumes import keys as volkeys

RECORD_FORMAT = "strongroom.io/writer/v2"
RECORD_FORMAT_V1 = "strongroom.io/writer/v1"
CREDENTIAL_FORMAT = "strongroom.io/writer-credential/v2"
CREDENTIAL_FORMAT_V1 = "strongroom.io/writer-credential/v1"
PREFIX = "w/"


class CredentialError(errors.RepositoryError, base_errors.UsageError):
    pass


@dataclasses.dataclass(frozen=True, repr=False)
class VolumeSecrets:
    """What a writer needs to store volume data in its epoch (format §6.2, §10)."""

    recipient: agekeys.Recipient
    chunker_table: bytes
    chunker_prf: bytes
    chunk_id_key: bytes
    index_key: bytes
    mac_key: bytes

    def __repr__(self) -> str:
        return "VolumeSecrets(...)"

    def to_json(self) -> dict[str, str]:
        return {
            "recipient": self.recipient.encode(),
            "chunkerTable": documents.b64(self.chunker_table),
            "chunkerPrf": documents.b64(self.chunker_prf),
            "chunkId": documents.b64(self.chunk_id_key),
            "index": documents.b64(self.index_key),
            "mac": documents.b64(self.mac_key),
        }

    @classmethod
    def from_json(cls, doc: object, where: str) -> VolumeSecrets:
        if not isinstance(doc, dict):
            raise CredentialError(f"{where}: malformed writer credential")
        sizes = {"chunkerTable": 2048, "chunkerPrf": 16, "chunkId": 32, "index": 32, "mac": 32}
        found = {}
        for field, size in sizes.items():
            value = documents.unb64(doc.get(field), where)
            if len(value) != size:
                raise CredentialError(f"{where}: malformed writer credential")
            found[field] = value
        return cls(
            recipient=agekeys.Recipient.parse(documents.require(doc, "recipient", str, where)),
            chunker_table=found["chunkerTable"],
            chunker_prf=found["chunkerPrf"],
            chunk_id_key=found["chunkId"],
            index_key=found["index"],
            mac_key=found["mac"],
        )


@dataclasses.dataclass(frozen=True)
class Credential:
    repository: str
    writer: str
    epoch: int
    recipients: tuple[agekeys.Recipient, ...]
    signing_key: signing.SigningKey = dataclasses.field(repr=False)
    name_tag_key: bytes = dataclasses.field(repr=False)
    #: None for a v1 credential, which predates volume data.
    volume: VolumeSecrets | None = dataclasses.field(default=None, repr=False)

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "format": CREDENTIAL_FORMAT if self.volume is not None else CREDENTIAL_FORMAT_V1,
            "repository": self.repository,
            "writer": self.writer,
            "epoch": self.epoch,
            "recipients": [r.encode() for r in self.recipients],
            "signingKey": documents.b64(self.signing_key.seed),
            "nameTagKey": documents.b64(self.name_tag_key),
        }
        if self.volume is not None:
            doc["volume"] = self.volume.to_json()
        return json.dumps(doc, indent=1).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Credential:
        try:
            doc = documents.parse_json(data, where)
            if doc.get("format") not in (CREDENTIAL_FORMAT, CREDENTIAL_FORMAT_V1):
                raise CredentialError(f"{where}: not a Strongroom writer credential")
            volume = None
            if doc["format"] == CREDENTIAL_FORMAT:
                volume = VolumeSecrets.from_json(doc.get("volume"), where)
            return cls(
                repository=documents.require(doc, "repository", str, where),
                writer=documents.require(doc, "writer", str, where),
                epoch=documents.require(doc, "epoch", int, where),
                recipients=tuple(
                    agekeys.Recipient.parse(r)
                    for r in documents.require(doc, "recipients", list, where)
                ),
                signing_key=signing.SigningKey(documents.unb64(doc.get("signingKey"), where)),
                name_tag_key=documents.unb64(doc.get("nameTagKey"), where),
                volume=volume,
            )
        except errors.IntegrityViolation as exc:
            raise CredentialError(f"{where}: malformed writer credential") from exc


def record(
    repository: str, writer: str, public: bytes, created: str, epoch: int, mac_key: bytes
) -> bytes:
    """A writer record of ``epoch``, MAC'd with that epoch's ``writer-mac`` subkey."""
    body = {
        "format": RECORD_FORMAT,
        "repository": repository,
        "writer": writer,
        "publicKey": documents.b64(public),
        "epoch": epoch,
        "created": created,
    }
    mac = hmac.digest(mac_key, documents.canonical(body), "sha256")
    return documents.canonical({**body, "mac": documents.b64(mac)})


def public_key(
    backend: abc.Callable[[str], bytes],
    repository: str,
    writer: str,
    epoch: int,
    mac_keys: abc.Callable[[int], bytes],
) -> bytes:
    """The registered public key of ``writer`` for manifests of ``epoch``, once its record's
    MAC verified under the record's own epoch (v1 records: epoch 1), which must be ``epoch``."""
    name = PREFIX + writer
    if not documents.is_id(writer):
        raise errors.IntegrityViolation(f"a manifest names a malformed writer id {writer[:40]!r}")
    try:
        data = backend(name)
    except base_errors.NotFoundError as exc:
        raise errors.IntegrityViolation(
            f"{name}: the writer that signed is not registered"
        ) from exc
    doc = documents.parse_json(data, name)
    mac = documents.unb64(doc.pop("mac", None), name)
    if doc.get("format") == RECORD_FORMAT_V1:
        own = 1
    elif doc.get("format") == RECORD_FORMAT:
        own = documents.require(doc, "epoch", int, name)
    else:
        raise errors.IntegrityViolation(f"{name}: not a writer record")
    try:
        key = mac_keys(own)
    except errors.IntegrityViolation as exc:
        raise errors.IntegrityViolation(f"{name}: writer record of unknown epoch {own}") from exc
    if not hmac.compare_digest(mac, hmac.digest(key, documents.canonical(doc), "sha256")):
        raise errors.IntegrityViolation(f"{name}: writer record MAC does not verify")
    if doc.get("repository") != repository or doc.get("writer") != writer:
        raise errors.IntegrityViolation(f"{name}: writer record of another repository or writer")
    if own != epoch:
        raise errors.IntegrityViolation(
            f"{name}: writer registered in key epoch {own} signed a manifest of epoch {epoch}"
        )
    return documents.unb64(doc.get("publicKey"), name)


def list_writers(
    read: abc.Callable[[str], bytes], names: abc.Iterable[str]
) -> list[dict[str, Any]]:
    found = []
    for name in names:
        doc = documents.parse_json(read(name), name)
        found.append({"id": doc.get("writer"), "created": doc.get("created")})
    return found


class WriterRepository:
    """The writing side of a repository, opened with a writer credential: no keyring."""

    def __init__(self, backend: Any, credential: Credential, now: clock.Clock) -> None:
        self._backend = backend
        self.credential = credential
        self._clock = now

    @property
    def id(self) -> str:
        return self.credential.repository

    @property
    def location(self) -> str:
        return str(self._backend.location)

    @classmethod
    def open(cls, backend: Any, credential: Credential, now: clock.Clock) -> WriterRepository:
        """Writing access to the repository at ``backend`` that ``credential`` was made for."""
        header = header_mod.read_header(backend)
        if header is None:
            raise errors.NoRepository(f"no Strongroom repository at {backend.location}")
        if header.repository != credential.repository:
            raise errors.IntegrityViolation(
                f"{backend.location} holds repository {header.repository}, "
                f"not {credential.repository} which the writer credential is for"
            )
        _refuse_closed_epoch(backend, credential)
        return cls(backend, credential, now)

    @property
    def backend(self) -> Any:
        return self._backend

    def _volume(self) -> VolumeSecrets:
        if self.credential.volume is None:
            raise CredentialError(
                f"writer credential {self.credential.writer} predates volume data "
                "(strongroom.io/writer-credential/v1): ask an administrator for a new one "
                "('key add --writer-output')"
            )
        return self.credential.volume

    def volume_keys(self, epoch: int | None = None) -> volkeys.VolumeKeys:
        """The volume-data keys of the credential's epoch, without the repository identity:
        packs can be stored, not opened (format §6.2). A writer has no other epoch's."""
        secrets = self._volume()
        if epoch is not None and epoch != self.credential.epoch:
            raise CredentialError(
                f"writer credential {self.credential.writer} holds the volume keys of key "
                f"epoch {self.credential.epoch}, not {epoch}"
            )
        return volkeys.VolumeKeys(
            repository=self.credential.repository,
            epoch=self.credential.epoch,
            recipient=secrets.recipient,
            identity=None,
            chunk_id_key=secrets.chunk_id_key,
            index_key=secrets.index_key,
            mac_key=secrets.mac_key,
        )

    def volume_chunker(self) -> chunker_mod.Chunker:
        secrets = self._volume()
        return chunker_mod.Chunker(secrets.chunker_table, secrets.chunker_prf)

    def begin_snapshot(self) -> backups.Writer:
        """A writer for a new standalone volume snapshot, signed by this writer (§10.5)."""
        self._volume()
        snapshot_id = documents.new_id()
        return self._begin("VolumeSnapshot", snapshot_id, snapshot_id, "")

    def begin_backup(self, name: str) -> backups.Writer:
        backup_id = documents.new_id()
        claim = claims.name(self.credential.name_tag_key, "backup", name)
        return self._begin("Backup", name, backup_id, claim)

    def _begin(self, kind: str, name: str, record_id: str, claim: str) -> backups.Writer:
        cred = self.credential
        return backups.new_writer(
            self._backend,
            kind=kind,
            name=name,
            ref=objects.Ref(cred.repository, record_id, "", cred.epoch),
            claim=claim,
            claim_ids={"backup": record_id} if claim else {},
            mac_key=None,
            identity=agekeys.Identity.generate(),
            key_recipients=list(cred.recipients),
            signer=(cred.writer, cred.signing_key),
        )


class CredentialRetired(errors.RepositoryError, base_errors.PermissionDeniedError):
    """The key epoch the credential writes in was closed by a rotation."""


def _refuse_closed_epoch(backend: Any, credential: Credential) -> None:
    """Stop before writing a backup nobody will accept: a seal of the credential's epoch
    (format §4.5) means the repository key was rotated after the credential was issued.
    A seal is not authenticated here (a writer holds no keyring); a planted one only makes
    this writer stop, which an attacker with the bucket can do anyway."""
    for info in backend.list(seals.PREFIX):
        doc: object = None
        with contextlib.suppress(base_errors.StrongroomError, ValueError):
            doc = json.loads(objects.read_small(backend, info.name, seals.MAX_SIZE))
        if isinstance(doc, dict) and doc.get("epoch") == credential.epoch:
            raise CredentialRetired(
                f"the repository key was rotated after writer credential "
                f"{credential.writer} was issued (key epoch {credential.epoch} is closed): "
                "ask an administrator for a new one ('key add --writer-output')"
            )
