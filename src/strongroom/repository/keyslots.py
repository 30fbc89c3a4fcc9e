"""Keyslots: ``keys/<slot-id>`` objects, each wrapping the whole keyring (format §4.2).

A slot's clear header names its type and the type's public fields (an age recipient, the
passphrase KDF parameters, a KMS key URI); ``wrapped`` holds the keyring as the key provider
wrapped it, bound to the slot's context. The providers live in ``strongroom.crypto.providers``.
"""

from __future__ import annotations

import dataclasses
from collections import abc
from typing import Any

from strongroom import clock
from strongroom import errors as base_errors
from strongroom.crypto import providers
from strongroom.crypto.providers import base as provider_base
from strongroom.repository import documents, errors, objects
from strongroom.repository import keyring as keyring_mod
from strongroom.storage import base as storage_base

FORMAT = "strongroom.io/keyslot/v1"
PREFIX = "keys/"


def context(repository: str, slot: str) -> bytes:
    """The bytes every keyslot is bound to: repository, slot id, purpose and format."""
    return documents.canonical(
        {"format": FORMAT, "purpose": "keyring", "repository": repository, "slot": slot}
    )


@dataclasses.dataclass(frozen=True)
class Slot:
    """A keyslot's clear header (what ``key list`` shows) and its wrapped keyring."""

    slot: str
    type: str
    created: str
    label: str
    fields: dict[str, Any]
    wrapped: bytes = dataclasses.field(repr=False)

    @property
    def name(self) -> str:
        return PREFIX + self.slot

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
    """A new slot wrapping ``ring`` through ``provider``, and the bytes to store."""
    slot_id = documents.new_id()
    wrapped = provider.wrap(ring.to_bytes(), context(ring.repository, slot_id))
    slot = Slot(slot_id, provider.TYPE, clock.rfc3339(now.now()), label, provider.fields(), wrapped)
    doc = {
        "format": FORMAT,
        "repository": ring.repository,
        "slot": slot.slot,
        "type": slot.type,
        "created": slot.created,
        "label": slot.label,
        **slot.fields,
        "wrapped": documents.b64(wrapped),
    }
    return slot, documents.canonical(doc)


_HEADER_KEYS = ("format", "repository", "slot", "type", "created", "label", "wrapped")


def parse(data: bytes, name: str, repository: str) -> Slot:
    """A stored slot; one that claims another repository or another name is refused."""
    doc = documents.parse_json(data, name)
    documents.expect_format(doc, FORMAT, name)
    slot_id = documents.require(doc, "slot", str, name)
    if doc.get("repository") != repository or PREFIX + slot_id != name:
        raise errors.IntegrityViolation(f"{name}: keyslot of another repository or slot")
    fields = {k: v for k, v in doc.items() if k not in _HEADER_KEYS}
    return Slot(
        slot=slot_id,
        type=documents.require(doc, "type", str, name),
        created=documents.require(doc, "created", str, name),
        label=str(doc.get("label", "")),
        fields=fields,
        wrapped=documents.unb64(doc.get("wrapped"), name),
    )


def load_all(backend: storage_base.Backend, repository: str) -> list[Slot]:
    """Every keyslot of the repository, oldest first; malformed ones raise."""
    slots = []
    for info in backend.list(PREFIX):
        slots.append(parse(objects.read_small(backend, info.name, 64 << 10), info.name, repository))
    return sorted(slots, key=lambda s: (s.created, s.slot))


def newest_first(slots: abc.Sequence[Slot]) -> list[Slot]:
    """Slots in the order to try them: after a rotation the new slots hold the new epoch."""
    return sorted(slots, key=lambda s: (s.created, s.slot), reverse=True)


def unlock(
    slots: abc.Sequence[Slot], repository: documents.Id, credentials: provider_base.Credentials
) -> keyring_mod.Keyring:
    """The keyring from the first slot the credentials open.

    Raises :class:`errors.Locked` naming how many slots were tried and why they did not open.
    """
    reasons: list[str] = []
    for slot in newest_first(slots):
        try:
            provider_cls = providers.registry.get(slot.type)
        except base_errors.StrongroomError:
            reasons.append(f"{slot.slot} ({slot.type}): unknown slot type")
            continue
        provider = provider_cls.for_slot(slot.fields, credentials)
        if provider is None:
            continue
        try:
            data = provider.unwrap(slot.wrapped, context(repository, slot.slot))
        except base_errors.IntegrityError as exc:
            raise errors.IntegrityViolation(f"{slot.name}: {exc}") from exc
        except base_errors.StrongroomError as exc:
            reasons.append(f"{slot.slot} ({slot.type}): {exc}")
            continue
        return keyring_mod.Keyring.from_bytes(data, repository, slot.name)
    if not slots:
        raise errors.Locked("the repository has no keyslots")
    why = "; ".join(reasons) if reasons else "no identity or passphrase given matches any of them"
    raise errors.Locked(f"none of the {len(slots)} keyslots opens: {why}")
