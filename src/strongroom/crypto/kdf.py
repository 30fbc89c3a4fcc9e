"""Key derivation: epoch subkeys (docs/format.md §4.3) and Argon2id for passphrase slots (§4.2).

``subkey(K_e, repository id, purpose, L) = HKDF-SHA-256(ikm=K_e, salt=repository id (16 bytes),
info="strongroom.io/v1/" + purpose, L)``, ``L = 32`` unless the purpose's row says otherwise.
"""

from __future__ import annotations

import dataclasses
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf import argon2, hkdf

from strongroom.crypto import agekeys, errors

INFO_PREFIX = "strongroom.io/v1/"
#: The purposes docs/format.md §4.3 defines; others must match ``_PURPOSE`` and be specified.
PURPOSES = (
    "repository-mac",
    "keyslot-mac",
    "manifest-mac",
    "name-tag",
    "writer-mac",
    "fingerprint",
    "recipient",
)
_PURPOSE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
KEY_SIZE = 32
#: HKDF-SHA-256 gives at most 255 blocks of 32 bytes (RFC 5869).
MAX_SUBKEY_SIZE = 255 * 32
REPOSITORY_ID_SIZE = 16

MAX_MEMORY_KIB = 1_048_576
MAX_ITERATIONS = 16
MAX_LANES = 8
MIN_SALT = 16


@dataclasses.dataclass(frozen=True)
class Argon2Params:
    """Argon2id cost parameters as a passphrase slot records them."""

    memory_kib: int
    iterations: int
    lanes: int


ARGON2_DEFAULTS = Argon2Params(memory_kib=65536, iterations=3, lanes=1)


def subkey(epoch_key: bytes, repository_id: bytes, purpose: str, length: int = KEY_SIZE) -> bytes:
    """The ``length``-byte subkey of ``purpose`` for one epoch key of one repository."""
    if len(epoch_key) != KEY_SIZE:
        raise errors.CryptoError("subkey: the epoch key must be 32 bytes")
    if len(repository_id) != REPOSITORY_ID_SIZE:
        raise errors.CryptoError("subkey: the repository id must be 16 bytes")
    if not _PURPOSE.fullmatch(purpose):
        raise errors.CryptoError(f"subkey: malformed purpose {purpose!r}")
    if not 1 <= length <= MAX_SUBKEY_SIZE:
        raise errors.CryptoError(f"subkey: the length must be 1..{MAX_SUBKEY_SIZE} bytes")
    info = (INFO_PREFIX + purpose).encode("ascii")
    return hkdf.HKDF(hashes.SHA256(), length, salt=repository_id, info=info).derive(epoch_key)


def recipient_identity(epoch_key: bytes, repository_id: bytes) -> agekeys.Identity:
    """The epoch's repository identity: the X25519 secret is ``subkey(..., "recipient")``."""
    return agekeys.Identity.from_secret(subkey(epoch_key, repository_id, "recipient"))


def check_argon2(salt: bytes, memory_kib: int, iterations: int, lanes: int) -> None:
    """Raise UnsupportedParameters unless the parameters are within the reader's limits."""
    if not 1 <= lanes <= MAX_LANES:
        raise errors.UnsupportedParameters(f"argon2id: lanes must be 1..{MAX_LANES}")
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise errors.UnsupportedParameters(f"argon2id: iterations must be 1..{MAX_ITERATIONS}")
    if not 8 * lanes <= memory_kib <= MAX_MEMORY_KIB:
        raise errors.UnsupportedParameters(f"argon2id: memoryKiB must be 8*lanes..{MAX_MEMORY_KIB}")
    if len(salt) < MIN_SALT:
        raise errors.UnsupportedParameters(f"argon2id: salt shorter than {MIN_SALT} bytes")


def argon2id(
    passphrase: bytes, salt: bytes, *, memory_kib: int, iterations: int, lanes: int
) -> bytes:
    """A 32-byte key from ``passphrase`` by Argon2id (RFC 9106), within the limits above."""
    check_argon2(salt, memory_kib, iterations, lanes)
    derive = argon2.Argon2id(
        salt=salt, length=KEY_SIZE, iterations=iterations, lanes=lanes, memory_cost=memory_kib
    )
    return derive.derive(passphrase)
