"""Ed25519 signatures for manifests written by a writer that cannot decrypt.

A writer credential holds a signing key; the repository registers its public key. Readers
verify manifests against it: a signature proves which writer wrote a manifest, and verifying
it needs nothing secret.
"""

from __future__ import annotations

import dataclasses

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from strongroom.crypto import errors

SEED_SIZE = 32


@dataclasses.dataclass(frozen=True)
class SigningKey:
    seed: bytes = dataclasses.field(repr=False)

    @classmethod
    def generate(cls) -> SigningKey:
        raw = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return cls(raw)

    def __post_init__(self) -> None:
        if len(self.seed) != SEED_SIZE:
            raise errors.InvalidKeyText("an Ed25519 signing key has 32 bytes")

    def sign(self, message: bytes) -> bytes:
        return ed25519.Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def public(self) -> bytes:
        key = ed25519.Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify(public: bytes, message: bytes, signature: bytes) -> None:
    """Raise :class:`errors.IntegrityError` unless ``signature`` by ``public`` signs ``message``."""
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError) as exc:
        raise errors.IntegrityError("Ed25519 signature does not verify") from exc
