"""Backup writers that cannot decrypt: credentials, registration, and the writing side.

An administrator (who can open the repository) registers a writer: its Ed25519 public key
goes into ``w/<writer-id>``, MAC'd with the keyring, and the writer receives a credential
file holding only what writing needs:

- the public recipients a backup key is encrypted to (the current epoch's repository
  recipient and the offline recovery recipients);
- its Ed25519 signing key, with which it signs its manifests instead of MAC'ing them;
- the name-tag key, so its backups can claim their names (``n/<tag>``).

Holding that file, a writer creates backups but can open none of them, not even its own once
written: every backup key is encrypted to recipients whose secrets it does not have. A stolen
credential lets its thief write backups that look authentic (until the writer is removed) and
test guesses of backup names against the name claims; it decrypts nothing.
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
from strongroom.repository import backups, claims, documents, errors, objects, seals
from strongroom.repository import header as header_mod

RECORD_FORMAT = "strongroom.io/writer/v2"
RECORD_FORMAT_V1 = "strongroom.io/writer/v1"
CREDENTIAL_FORMAT = "strongroom.io/writer-credential/v1"
PREFIX = "w/"


class CredentialError(errors.RepositoryError, base_errors.UsageError):
    pass


@dataclasses.dataclass(frozen=True)
class Credential:
    repository: str
    writer: str
    epoch: int
    recipients: tuple[agekeys.Recipient, ...]
    signing_key: signing.SigningKey = dataclasses.field(repr=False)
    name_tag_key: bytes = dataclasses.field(repr=False)

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "format": CREDENTIAL_FORMAT,
                "repository": self.repository,
                "writer": self.writer,
                "epoch": self.epoch,
                "recipients": [r.encode() for r in self.recipients],
                "signingKey": documents.b64(self.signing_key.seed),
                "nameTagKey": documents.b64(self.name_tag_key),
            },
            indent=1,
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Credential:
        try:
            doc = documents.parse_json(data, where)
            if doc.get("format") != CREDENTIAL_FORMAT:
                raise CredentialError(f"{where}: not a Strongroom writer credential")
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

    def begin_backup(self, name: str) -> backups.Writer:
        backup_id = documents.new_id()
        cred = self.credential
        return backups.new_writer(
            self._backend,
            kind="Backup",
            name=name,
            ref=objects.Ref(cred.repository, backup_id, "", cred.epoch),
            claim=claims.name(cred.name_tag_key, "backup", name),
            claim_ids={"backup": backup_id},
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
