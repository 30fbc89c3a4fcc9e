"""Upgrading a v1 repository to authenticated keyslots (format §9.1).

A v1 slot's clear fields were never authenticated, so the upgrade carries over only the
slots it can vouch for: those the given credentials open (yielding this very keyring) and
age slots whose recipient the user names (an offline recovery key kept elsewhere). Everything
else of the repository is authenticated with the v1 rules, each closed epoch is sealed, and the
v2 keyring is sealed into one v2 slot per carried slot; then the v1 slots are deleted.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import abc

from strongroom import errors as base_errors
from strongroom.crypto import agekeys, providers
from strongroom.crypto.providers import base as provider_base
from strongroom.repository import errors, keyadmin, keyslots, trust
from strongroom.repository import keyring as keyring_mod
from strongroom.repository import repo as repo_mod


class UnverifiedSlots(errors.RepositoryError, base_errors.UsageError):
    """v1 slots the upgrade cannot vouch for, and no instruction what to do with them."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    carried: list[tuple[keyslots.Slot, keyslots.Slot]]
    dropped: list[keyslots.Slot]
    pin: trust.Pin


def _opens_same(
    slot: keyslots.Slot,
    repository: str,
    ring: keyring_mod.Keyring,
    credentials: provider_base.Credentials,
    kms_keys: tuple[str, ...] | None,
) -> provider_base.KeyProvider | None:
    """A sealer for ``slot`` if the credentials open it to ``ring``'s keys, else None."""
    uri = slot.fields.get("uri")
    if isinstance(uri, str) and kms_keys is not None and uri not in kms_keys:
        return None
    with contextlib.suppress(base_errors.StrongroomError):
        provider = providers.registry.get(slot.type).for_slot(slot.fields, credentials)
        if provider is None:
            return None
        data = provider.unwrap(slot.wrapped, slot.context(repository))
        opened = keyring_mod.Keyring.from_bytes(data, ring.repository, slot.name)
        if [e.key for e in opened.epochs] == [e.key for e in ring.epochs]:
            return keyadmin.sealer(slot, repository, credentials)
    return None


def upgrade(
    repo: repo_mod.Repository,
    credentials: provider_base.Credentials,
    vouched: abc.Collection[agekeys.Recipient],
    kms_keys: tuple[str, ...] | None,
    *,
    drop_unverified: bool,
) -> Outcome:
    """Upgrade ``repo`` (opened with ``v1=True``); see the module docstring."""
    ring = repo.ring
    if ring.version >= 2:
        raise errors.RepositoryError(f"{repo.location}: the repository is already upgraded")
    old = [s for s in repo.slots() if s.version < 2]
    carried: list[tuple[keyslots.Slot, provider_base.KeyProvider]] = []
    dropped: list[keyslots.Slot] = []
    for slot in old:
        provider = _opens_same(slot, repo.id, ring, credentials, kms_keys)
        recipient = slot.fields.get("recipient")
        if (
            provider is None
            and slot.type == "age-x25519"
            and any(r.encode() == recipient for r in vouched)
        ):
            provider = keyadmin.sealer(slot, repo.id, credentials)
        if provider is None:
            dropped.append(slot)
        else:
            carried.append((slot, provider))
    if dropped and not drop_unverified:
        listed = ", ".join(f"{s.slot} ({s.type})" for s in dropped)
        raise UnverifiedSlots(
            f"cannot vouch for keyslots {listed}: give the identity or passphrase that opens "
            "them, --recipient AGE_PUBKEY for offline keys that are yours, or "
            "--drop-unverified to leave them out"
        )
    items = [*repo.committed(), *repo.restores()]
    if repo.listing_problems:
        raise errors.IntegrityViolation(
            f"not upgrading a tampered repository: {repo.listing_problems[0]}"
        )
    seals = {e.number: repo.write_seal(e.number, items) for e in ring.epochs[:-1]}
    upgraded = ring.upgraded(repo.header.sha256, seals)
    pairs = keyadmin.reseal(
        repo.backend,
        upgraded,
        [slot for slot, _ in carried],
        credentials,
        repo.time_source,
        [provider for _, provider in carried],
    )
    for slot in dropped:
        repo.backend.delete(slot.name)
    return Outcome(pairs, dropped, trust.Pin(upgraded.fingerprint(), upgraded.current.number))
