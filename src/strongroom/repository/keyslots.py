"""Keyslots: ``keys/<slot-id>`` objects, each wrapping the whole keyring (format §4.2).

A slot's clear header names its type and the type's public fields (an age recipient, the
passphrase KDF parameters, a KMS key URI); ``wrapped`` holds the keyring as the key provider
wrapped it, bound to the slot's context. A v2 slot also carries the epoch of the keyring it
wraps and a MAC over everything else under that epoch's ``keyslot-mac`` subkey, so its clear
fields are only believed once a keyring is open. Which slot is tried, and which keyring is
accepted, is :mod:`.trust`'s business.
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Any

from strongroom import clock
from strongroom import errors as base_errors
from strongroom.crypto.providers import base as provider_base
from strongroom.repository import documents, errors, objects
from strongroom.repository import keyring as keyring_mod
from strongroom.storage import base as storage_base

FORMAT = "strongroom.io/keyslot/v2"
FORMAT_V1 = "strongroom.io/keyslot/v1"
PREFIX = "keys/"
MAX_SIZE = 64 << 10
_HEADER_KEYS = ("format", "repository", "slot", "type", "created", "label", "wrapped")
_V2_KEYS = ("epoch", "mac")


def context(repository: str, slot: str, epoch: int | None = None) -> bytes:
    """The bytes a keyslot is bound to; ``epoch`` None gives the v1 context."""
    doc = {"format": FORMAT_V1, "purpose": "keyring", "repository": repository, "slot": slot}
    if epoch is not None:
        doc.update(format=FORMAT, epoch=str(epoch))
    return documents.canonical(doc)


@dataclasses.dataclass(frozen=True)
class Slot:
    """A keyslot's clear header (what ``key list`` shows) and its wrapped keyring."""

    slot: str
    type: str
    created: str
    label: str
    fields: dict[str, Any]
    wrapped: bytes = dataclasses.field(repr=False)
    #: 2, or 1 for a slot written before slots were authenticated.
    version: int = 2
    #: The current epoch of the keyring it wraps (v2); 0 for v1.
    epoch: int = 0
    mac: bytes = dataclasses.field(default=b"", repr=False)
    #: The stored document without ``mac``: what the MAC covers.
    body: bytes = dataclasses.field(default=b"", repr=False)

    @property
    def name(self) -> str:
        return PREFIX + self.slot

    def context(self, repository: str) -> bytes:
        return context(repository, self.slot, self.epoch if self.version >= 2 else None)

    def mac_verifies(self, ring: keyring_mod.Keyring) -> bool:
        """Whether the slot's MAC verifies under ``ring`` at the slot's epoch."""
        if self.version < 2 or self.epoch > ring.current.number:
            return False
        expected = hmac.digest(ring.subkey(self.epoch, "keyslot-mac"), self.body, "sha256")
        return hmac.compare_digest(expected, self.mac)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.slot,
            "type": self.type,
            "created": self.created,
            "label": self.label,
            **self.fields,
        }


def seal(
    ring: keyring_mod.Keyring,
    provider: provider_base.KeyProvider,
    now: clock.Clock,
    label: str = "",
) -> tuple[Slot, bytes]:
    """A new v2 slot wrapping ``ring`` through ``provider``, and the bytes to store."""
    slot_id = documents.new_id()
    epoch = ring.current.number
    wrapped = provider.wrap(ring.to_bytes(), context(ring.repository, slot_id, epoch))
    doc = {
        "format": FORMAT,
        "repository": ring.repository,
        "slot": slot_id,
        "type": provider.TYPE,
        "created": clock.rfc3339(now.now()),
        "label": label,
        "epoch": epoch,
        **provider.fields(),
        "wrapped": documents.b64(wrapped),
    }
    body = documents.canonical(doc)
    mac = hmac.digest(ring.subkey(epoch, "keyslot-mac"), body, "sha256")
    data = documents.canonical({**doc, "mac": documents.b64(mac)})
    return parse(data, PREFIX + slot_id, ring.repository), data


def parse(data: bytes, name: str, repository: str) -> Slot:
    """A stored slot, strictly parsed; IntegrityViolation names what is wrong with it."""
    doc = documents.parse_json(data, name)
    version = {FORMAT: 2, FORMAT_V1: 1}.get(doc.get("format"))  # type: ignore[arg-type]
    if version is None:
        raise errors.IntegrityViolation(f"{name}: not a keyslot (format {doc.get('format')!r})")
    slot_id = documents.require(doc, "slot", str, name)
    if doc.get("repository") != repository or PREFIX + slot_id != name:
        raise errors.IntegrityViolation(f"{name}: keyslot of another repository or slot")
    epoch, mac, body = 0, b"", b""
    if version == 2:
        epoch = documents.require(doc, "epoch", int, name)
        if epoch < 1:
            raise errors.IntegrityViolation(f"{name}: keyslot epoch {epoch} is not positive")
        mac = documents.unb64(doc.pop("mac", None), name)
        body = documents.canonical(doc)
    label = doc.get("label", "")
    if not isinstance(label, str):
        raise errors.IntegrityViolation(f"{name}: keyslot label is not a string")
    reserved = _HEADER_KEYS + (_V2_KEYS if version == 2 else ())
    return Slot(
        slot=slot_id,
        type=documents.require(doc, "type", str, name),
        created=documents.require(doc, "created", str, name),
        label=label,
        fields={k: v for k, v in doc.items() if k not in reserved},
        wrapped=documents.unb64(doc.get("wrapped"), name),
        version=version,
        epoch=epoch,
        mac=mac,
        body=body,
    )


def load_all(backend: storage_base.Backend, repository: str) -> tuple[list[Slot], list[str]]:
    """Every well-formed keyslot (by slot id), and one line per object that is not one."""
    slots: list[Slot] = []
    problems: list[str] = []
    for info in backend.list(PREFIX):
        try:
            data = objects.read_small(backend, info.name, MAX_SIZE)
            slots.append(parse(data, info.name, repository))
        except (base_errors.IntegrityError, errors.UnsupportedRepository) as exc:
            problems.append(str(exc))
        except base_errors.NotFoundError:
            continue  # deleted while listing
    return sorted(slots, key=lambda s: s.slot), problems
