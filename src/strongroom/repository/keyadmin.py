"""Keyslot administration: add, remove, rewrap, and start a new repository-key epoch.

Everything here writes or deletes small ``keys/`` objects only (and, for a new epoch, its
seal); no backup object is touched.
New slots are written before old ones are deleted, so a crash in between leaves extra slots
(all of which open the repository), never too few.
"""

from __future__ import annotations

from collections import abc

from strongroom import clock
from strongroom import errors as base_errors
from strongroom.crypto import providers
from strongroom.crypto.providers import base as provider_base
from strongroom.crypto.providers import passphrase
from strongroom.repository import documents, errors, keyslots
from strongroom.repository import keyring as keyring_mod
from strongroom.storage import base as storage_base


class SlotNotFound(errors.RepositoryError, base_errors.NotFoundError):
    pass


class LastSlot(errors.RepositoryError, base_errors.UsageError):
    """Removing it would leave nothing able to open the repository."""


class CannotRewrap(errors.RepositoryError, base_errors.PermissionDeniedError):
    """A slot whose secret was not supplied cannot be sealed anew."""


def _singles(credentials: provider_base.Credentials) -> abc.Iterator[provider_base.Credentials]:
    yield provider_base.Credentials()
    for identity in credentials.identities:
        yield provider_base.Credentials(identities=(identity,))
    for secret in credentials.passphrases:
        yield provider_base.Credentials(passphrases=(secret,))


def sealer(
    slot: keyslots.Slot, repository: str, credentials: provider_base.Credentials
) -> provider_base.KeyProvider:
    """A provider able to seal a new copy of ``slot``.

    Age slots need only their recipient. Other slots need whatever opens them (a passphrase,
    access to the key service): each supplied secret is tried alone, and the one that opens
    the slot seals its successor, so a slot is never re-sealed under the wrong passphrase.
    A passphrase slot's successor gets a new salt.
    """
    cls = providers.registry.get(slot.type)
    for_wrapping = getattr(cls, "for_wrapping", None)
    if for_wrapping is not None:
        found: provider_base.KeyProvider | None = for_wrapping(slot.fields, credentials)
        if found is not None:
            return found
    for single in _singles(credentials):
        candidate = cls.for_slot(slot.fields, single)
        if candidate is None:
            continue
        try:
            candidate.unwrap(slot.wrapped, slot.context(repository))
        except base_errors.StrongroomError:
            continue
        if isinstance(candidate, passphrase.PassphraseProvider):
            return passphrase.PassphraseProvider.new(candidate.passphrase, candidate.params)
        return candidate
    raise CannotRewrap(
        f"keyslot {slot.slot} ({slot.type}): nothing given opens it, so it cannot be sealed "
        "anew; supply its passphrase or identity, or remove the slot first"
    )


def sealers(
    slots: abc.Sequence[keyslots.Slot], repository: str, credentials: provider_base.Credentials
) -> list[provider_base.KeyProvider]:
    """A sealer for every slot, all found before anything is written."""
    return [sealer(slot, repository, credentials) for slot in slots]


def remove(
    backend: storage_base.Backend,
    trusted: abc.Sequence[keyslots.Slot],
    slot_id: str,
    *,
    force: bool,
) -> str:
    """Delete keyslot ``slot_id``: a trusted slot (the last one only with ``force``), or any
    other object under ``keys/`` (planted, stale, malformed). Returns what it was."""
    for slot in trusted:
        if slot.slot == slot_id:
            if len(trusted) == 1 and not force:
                raise LastSlot(
                    f"keyslot {slot_id} is the last one: without it nothing opens the "
                    "repository (add --force to destroy access to every backup)"
                )
            backend.delete(slot.name)
            return f"{slot.type} {slot.fields.get('recipient') or slot.fields.get('uri') or ''}"
    name = keyslots.PREFIX + slot_id
    if not documents.is_id(slot_id):
        raise SlotNotFound(f"keyslot {slot_id!r} not found")
    try:
        backend.stat(name)
    except base_errors.NotFoundError as exc:
        raise SlotNotFound(f"keyslot {slot_id!r} not found") from exc
    backend.delete(name)
    return "untrusted keyslot object"


def reseal(
    backend: storage_base.Backend,
    ring: keyring_mod.Keyring,
    slots: abc.Sequence[keyslots.Slot],
    credentials: provider_base.Credentials,
    now: clock.Clock,
    found: abc.Sequence[provider_base.KeyProvider] | None = None,
) -> list[tuple[keyslots.Slot, keyslots.Slot]]:
    """Seal ``ring`` anew in one new slot per existing slot, then delete the old ones.

    Key-service slots are sealed under the current version of their key (rotation of the
    KEK); with a rotated ``ring`` this starts a new repository-key epoch. Returns
    (old, new) pairs. Every sealer is found (or given as ``found``) before anything is
    written.
    """
    chosen = list(found) if found is not None else sealers(slots, ring.repository, credentials)
    pairs = []
    for old, provider in zip(slots, chosen, strict=True):
        new, data = keyslots.seal(ring, provider, now, old.label)
        backend.put(new.name, data)
        pairs.append((old, new))
    for old, _ in pairs:
        backend.delete(old.name)
    return pairs
