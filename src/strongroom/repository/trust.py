"""Which keyslot to try, and which keyring to accept (format §4.4).

The bucket is the adversary's: a slot's clear fields decide nothing until a keyring the
client trusts is open. The client's own configuration supplies a :class:`Trust`: the pinned
fingerprint and epoch, and the key-service URIs it may call. Slots are tried in an order that
depends only on their type and validated cost; a keyring is accepted only when its slot's MAC
verifies and it matches the pin; every slot that fails is reported and skipped.
"""

from __future__ import annotations

import dataclasses
from collections import abc

from strongroom import errors as base_errors
from strongroom.crypto import providers
from strongroom.crypto.providers import base as provider_base
from strongroom.crypto.providers import passphrase as passphrase_provider
from strongroom.repository import documents, errors, keyslots
from strongroom.repository import keyring as keyring_mod

#: Slot types whose wrapping only someone holding the secret (a passphrase) or the right to
#: encrypt under a configured key can produce: a new epoch they bring is the owner's.
AUTHOR_AUTHENTICATING = frozenset({"passphrase", "aws-kms", "hcvault", "gcp-kms"})


class NeedsUpgrade(errors.RepositoryError, base_errors.ConfigError):
    """Only v1 keyslots: their clear fields are unauthenticated; the upgrade fixes that."""


class KeyringRejected(errors.IntegrityViolation):
    """A slot opened, but its keyring is not one this client may accept."""


class _Unconfigured(Exception):
    """A key-service slot whose URI the client's configuration does not list."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.uri = uri


@dataclasses.dataclass(frozen=True)
class Pin:
    fingerprint: str
    epoch: int


@dataclasses.dataclass(frozen=True)
class Trust:
    """What the client's configuration vouches for."""

    pin: Pin | None = None
    #: Key-service URIs the client may call; None when the configuration predates them
    #: (then the slots' own URIs are trusted on first use, like the keyring).
    kms_keys: tuple[str, ...] | None = None
    #: The slot that opened the repository last time (the client remembers it): tried first,
    #: so planted slots cost nothing once a client has opened the repository.
    preferred: str = ""


@dataclasses.dataclass
class Unlocked:
    ring: keyring_mod.Keyring
    opened_by: keyslots.Slot
    #: Slots whose MAC verifies under the current epoch: the only ones whose fields count.
    trusted: list[keyslots.Slot]
    #: One line per slot object that is malformed, forged, stale or otherwise refused.
    problems: list[str]
    pin: Pin


def _attempt(
    slot: keyslots.Slot, credentials: provider_base.Credentials, trust: Trust
) -> tuple[tuple[int, int, str], provider_base.KeyProvider] | None:
    """The order key and provider for a slot these credentials might open, or None."""
    cls = providers.registry.get(slot.type)
    if slot.type == "age-x25519":
        rank, cost = 0, 0
    elif slot.type == "passphrase":
        params, _ = passphrase_provider.parse_kdf(slot.fields.get("kdf"))
        rank, cost = 2, params.memory_kib * params.iterations
    else:
        uri = slot.fields.get("uri")
        if not isinstance(uri, str):
            raise errors.IntegrityViolation(f"{slot.name}: key-service slot without a 'uri'")
        if trust.kms_keys is not None and uri not in trust.kms_keys:
            raise _Unconfigured(uri)  # a key this client was not told to use: never called
        rank, cost = 1, 0
    provider = cls.for_slot(slot.fields, credentials)
    return None if provider is None else ((rank, cost, slot.slot), provider)


def candidates(
    slots: abc.Sequence[keyslots.Slot],
    credentials: provider_base.Credentials,
    trust: Trust,
    problems: list[str],
    unconfigured: list[str] | None = None,
) -> list[tuple[keyslots.Slot, provider_base.KeyProvider]]:
    """Slots to try, in order: the one that opened last time, then matching age slots,
    configured key services, passphrases by ascending Argon2 cost. A slot that cannot even be
    tried is added to ``problems``; the URIs of key-service slots the configuration does not
    list, to ``unconfigured``."""
    found = []
    for slot in slots:
        try:
            attempt = _attempt(slot, credentials, trust)
        except _Unconfigured as skipped:
            if unconfigured is not None and skipped.uri not in unconfigured:
                unconfigured.append(skipped.uri)
            continue
        except base_errors.StrongroomError as exc:
            problems.append(f"{slot.name}: {exc}")
            continue
        if attempt is not None:
            first = 0 if slot.slot == trust.preferred else 1
            found.append(((first, *attempt[0]), slot, attempt[1]))
    found.sort(key=lambda item: item[0])
    return [(slot, provider) for _, slot, provider in found]


def accept(slot: keyslots.Slot, ring: keyring_mod.Keyring, trust: Trust) -> tuple[Pin, str | None]:
    """The pin to keep after accepting ``ring`` from ``slot``, or why it is refused."""
    if slot.version >= 2:
        if ring.version < 2 or ring.current.number != slot.epoch:
            return Pin("", 0), f"{slot.name}: holds a keyring that does not match its epoch"
        if not slot.mac_verifies(ring):
            return Pin("", 0), f"{slot.name}: keyslot MAC does not verify"
    newest = Pin(ring.fingerprint(), ring.current.number)
    pin = trust.pin
    if pin is None:
        return newest, None
    if pin.epoch == 0:  # pinned by fingerprint alone: find the epoch it was taken at
        matches = [
            n for n in range(1, ring.current.number + 1) if ring.fingerprint(n) == pin.fingerprint
        ]
        pin = Pin(pin.fingerprint, matches[0] if matches else ring.current.number)
    if ring.current.number < pin.epoch:
        return newest, (
            f"{slot.name}: rolled back: its keyring ends at epoch {ring.current.number}, "
            f"this client has seen epoch {pin.epoch}"
        )
    if ring.fingerprint(pin.epoch) != pin.fingerprint:
        return newest, (
            f"{slot.name}: its keyring is not the one this client pinned "
            f"({keyring_mod.show_fingerprint(pin.fingerprint)})"
        )
    if ring.current.number > pin.epoch and slot.type not in AUTHOR_AUTHENTICATING:
        return newest, (
            f"{slot.name}: brings key epoch {ring.current.number}, newer than the epoch "
            f"{pin.epoch} this client pinned, through a {slot.type} slot that anyone can "
            f"write; if the repository key was rotated, compare fingerprint "
            f"{keyring_mod.show_fingerprint(newest.fingerprint)} with the one 'key rotate' "
            "printed and run 'strongroom location pin'"
        )
    return newest, None


def review(
    slots: abc.Sequence[keyslots.Slot], ring: keyring_mod.Keyring, problems: list[str]
) -> list[keyslots.Slot]:
    """The slots whose MAC verifies under the current epoch; the others go to ``problems``."""
    trusted = []
    current = ring.current.number
    for slot in slots:
        if slot.version < 2:
            problems.append(f"{slot.name}: a v1 keyslot in an upgraded repository (replayed?)")
        elif slot.epoch < current and slot.mac_verifies(ring):
            problems.append(
                f"{slot.name}: stale keyslot of epoch {slot.epoch} (left by an interrupted "
                f"rotation, or replayed): 'strongroom key remove {slot.slot}'"
            )
        elif slot.epoch != current or not slot.mac_verifies(ring):
            problems.append(f"{slot.name}: keyslot MAC does not verify (planted or altered)")
        else:
            trusted.append(slot)
    return trusted


def unlock(
    slots: abc.Sequence[keyslots.Slot],
    repository: documents.Id,
    credentials: provider_base.Credentials,
    trust: Trust,
    problems: list[str],
    *,
    v1: bool = False,
) -> Unlocked:
    """Open the keyring through the first slot that yields one this client accepts.

    ``v1`` opens v1 slots only (the upgrade); otherwise v1 slots are reported, unless they
    are all there is (:class:`NeedsUpgrade`). Raises :class:`KeyringRejected` (exit 4) when
    slots opened but none gave an acceptable keyring, :class:`errors.Locked` (exit 7) when
    nothing opened (naming why each slot tried did not: a wrong key, an unreachable KMS).
    """
    v2_slots = [s for s in slots if s.version >= 2]
    usable = [s for s in slots if s.version < 2] if v1 else v2_slots
    if not v1 and not v2_slots and slots:
        raise NeedsUpgrade(
            "the repository's keyslots are format v1, whose clear fields nobody "
            "authenticates: run 'strongroom location upgrade' first"
        )
    rejected: list[str] = []
    failures: list[base_errors.StrongroomError] = []
    unconfigured: list[str] = []
    for slot, provider in candidates(usable, credentials, trust, problems, unconfigured):
        try:
            data = provider.unwrap(slot.wrapped, slot.context(repository))
            ring = keyring_mod.Keyring.from_bytes(data, repository, slot.name)
        except base_errors.IntegrityError as exc:
            rejected.append(f"{slot.name}: {exc}" if slot.name not in str(exc) else str(exc))
            continue
        except base_errors.StrongroomError as exc:
            failures.append(exc)
            continue
        pin, refusal = accept(slot, ring, trust)
        if refusal is not None:
            rejected.append(refusal)
            continue
        problems.extend(rejected)
        reported = {s.slot for s in usable if any(s.name in r for r in rejected)}
        others = [s for s in (v2_slots if not v1 else []) if s.slot not in reported | {slot.slot}]
        if not v1:
            review([s for s in slots if s.version < 2], ring, problems)
        trusted = [slot, *review(others, ring, problems)] if not v1 else [slot]
        return Unlocked(ring, slot, trusted, problems, pin)
    problems.extend(rejected)
    if rejected:
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        raise KeyringRejected(rejected[0] + more)
    if not usable:
        raise errors.Locked("the repository has no usable keyslots" + _first(problems))
    why = "; ".join(str(f) for f in failures) or (
        "no identity, passphrase or configured key service matches any of them"
    )
    if unconfigured:
        why += (
            f" (not configured here, so not called: {', '.join(unconfigured)}; "
            "'strongroom location pin L --kms URI' allows one)"
        )
    raise errors.Locked(f"none of the {len(usable)} keyslots opens: {why}{_first(problems)}")


def _first(problems: list[str]) -> str:
    return f" ({problems[0]})" if problems else ""
