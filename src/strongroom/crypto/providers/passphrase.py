"""The ``passphrase`` keyslot (format.md §4.2).

``KEK = Argon2id(passphrase, salt, memoryKiB, iterations, lanes, 32 bytes)`` and
``wrapped = nonce(12) || AES-256-GCM(KEK, nonce, secret, aad = context)``. The type field is
``kdf = {"name": "argon2id", "salt": <b64 16 bytes>, "memoryKiB", "iterations", "lanes"}``.
AES-GCM is not key-committing: a wrong passphrase and an altered slot both fail the tag and are
reported as :class:`errors.WrongPassphrase`; only malformed slots are integrity errors.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import aead

from strongroom.crypto import errors, kdf
from strongroom.crypto.providers import base

NONCE_SIZE = 12
TAG_SIZE = 16
SALT_SIZE = 16
_INT_FIELDS = {"memoryKiB": "memory_kib", "iterations": "iterations", "lanes": "lanes"}


@dataclasses.dataclass(frozen=True)
class PassphraseProvider:
    """Wraps with ``passphrase``; unwraps with it or any of ``alternatives``."""

    TYPE: ClassVar[str] = "passphrase"

    passphrase: bytes = dataclasses.field(repr=False)
    params: kdf.Argon2Params
    salt: bytes
    alternatives: tuple[bytes, ...] = dataclasses.field(default=(), repr=False)
    #: Source of the 12-byte AES-GCM nonce (known-answer tests only).
    rng: Callable[[int], bytes] = dataclasses.field(default=os.urandom, repr=False, compare=False)

    @classmethod
    def new(
        cls,
        passphrase: bytes,
        params: kdf.Argon2Params = kdf.ARGON2_DEFAULTS,
        *,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> PassphraseProvider:
        """A provider for a new slot: a fresh 16-byte salt from ``rng``."""
        return cls(passphrase, params, rng(SALT_SIZE), rng=rng)

    def fields(self) -> dict[str, Any]:
        return {
            "kdf": {
                "name": "argon2id",
                "salt": base64.b64encode(self.salt).decode("ascii"),
                "memoryKiB": self.params.memory_kib,
                "iterations": self.params.iterations,
                "lanes": self.params.lanes,
            }
        }

    def _kek(self, passphrase: bytes) -> aead.AESGCM:
        p = self.params
        key = kdf.argon2id(
            passphrase, self.salt, memory_kib=p.memory_kib, iterations=p.iterations, lanes=p.lanes
        )
        return aead.AESGCM(key)

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        nonce = self.rng(NONCE_SIZE)
        if len(nonce) != NONCE_SIZE:
            raise errors.CryptoError("passphrase keyslot: random source returned a short read")
        return nonce + self._kek(self.passphrase).encrypt(nonce, secret, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        if len(wrapped) < NONCE_SIZE + TAG_SIZE:
            raise errors.IntegrityError("passphrase keyslot: wrapped value is truncated")
        nonce, sealed = wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:]
        for passphrase in (self.passphrase, *self.alternatives):
            try:
                return self._kek(passphrase).decrypt(nonce, sealed, context)
            except InvalidTag:
                continue
        raise errors.WrongPassphrase(
            "no given passphrase opens the passphrase keyslot (or the slot was altered)"
        )

    @classmethod
    def for_slot(
        cls, fields: Mapping[str, Any], credentials: base.Credentials
    ) -> PassphraseProvider | None:
        params, salt = parse_kdf(fields.get("kdf"))
        if not credentials.passphrases:
            return None
        first, *others = credentials.passphrases
        return cls(first, params, salt, alternatives=tuple(others))


def parse_kdf(value: object) -> tuple[kdf.Argon2Params, bytes]:
    """Validate a slot's ``kdf`` field strictly: IntegrityError if malformed,
    UnsupportedParameters if beyond the reader's limits."""
    if not isinstance(value, Mapping) or set(value) != {"name", "salt", *_INT_FIELDS}:
        raise errors.IntegrityError("passphrase keyslot: 'kdf' missing or with wrong fields")
    if value["name"] != "argon2id" or not isinstance(value["salt"], str):
        raise errors.IntegrityError("passphrase keyslot: 'kdf' name or salt malformed")
    ints: dict[str, int] = {}
    for name, attr in _INT_FIELDS.items():
        number = value[name]
        if not isinstance(number, int) or isinstance(number, bool):
            raise errors.IntegrityError(f"passphrase keyslot: kdf '{name}' is not an integer")
        ints[attr] = number
    try:
        salt = base64.b64decode(value["salt"], validate=True)
    except binascii.Error:
        raise errors.IntegrityError("passphrase keyslot: kdf salt is not base64") from None
    if len(salt) != SALT_SIZE:
        raise errors.IntegrityError("passphrase keyslot: kdf salt is not 16 bytes")
    kdf.check_argon2(salt, **ints)
    return kdf.Argon2Params(**ints), salt
