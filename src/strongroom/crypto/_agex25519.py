"""The age X25519 recipient stanza (C2SP age, "The X25519 recipient type").

``-> X25519 <b64 ephemeral share>`` with a 32-byte body: the 16-byte file key sealed with
ChaCha20-Poly1305 (zero nonce) under ``HKDF-SHA-256(shared, salt = share || recipient,
info = "age-encryption.org/v1/X25519")``.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers import aead
from cryptography.hazmat.primitives.kdf import hkdf

from strongroom.crypto import _ageheader, agekeys, errors

TYPE = "X25519"
_INFO = b"age-encryption.org/v1/X25519"
_ZERO_NONCE = bytes(12)
FILE_KEY_SIZE = 16


def _wrap_key(shared: bytes, share: bytes, recipient: bytes) -> bytes:
    derive = hkdf.HKDF(hashes.SHA256(), 32, salt=share + recipient, info=_INFO)
    return derive.derive(shared)


def _exchange(private: x25519.X25519PrivateKey, public: bytes) -> bytes:
    try:
        shared = private.exchange(x25519.X25519PublicKey.from_public_bytes(public))
    except ValueError:
        raise errors.IntegrityError("age header: X25519 share is a low-order point") from None
    return shared


def wrap(
    file_key: bytes, recipient: agekeys.Recipient, ephemeral_secret: bytes
) -> _ageheader.Stanza:
    """The stanza that gives ``recipient`` the file key, using the given ephemeral secret."""
    ephemeral = x25519.X25519PrivateKey.from_private_bytes(ephemeral_secret)
    share = ephemeral.public_key().public_bytes_raw()
    try:
        shared = ephemeral.exchange(
            x25519.X25519PublicKey.from_public_bytes(recipient.public_bytes)
        )
    except ValueError:
        raise errors.InvalidKeyText("age recipient is a low-order point") from None
    key = _wrap_key(shared, share, recipient.public_bytes)
    body = aead.ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, file_key, None)
    return _ageheader.Stanza(TYPE, (_ageheader.b64encode(share).decode("ascii"),), body)


def check(stanza: _ageheader.Stanza) -> bytes:
    """Validate an X25519 stanza's shape and return its ephemeral share (IntegrityError)."""
    if len(stanza.args) != 1:
        raise errors.IntegrityError("age header: X25519 stanza needs exactly one argument")
    share = _ageheader.b64decode(stanza.args[0].encode("ascii"), "X25519 share")
    if len(share) != agekeys.KEY_SIZE:
        raise errors.IntegrityError("age header: X25519 share is not 32 bytes")
    if len(stanza.body) != FILE_KEY_SIZE + 16:
        raise errors.IntegrityError("age header: X25519 stanza body is not 32 bytes")
    return share


def unwrap(stanza: _ageheader.Stanza, identity: agekeys.Identity) -> bytes | None:
    """The file key if ``identity`` opens this (already checked) stanza, else None."""
    share = check(stanza)
    private = identity.private_key()
    shared = _exchange(private, share)
    key = _wrap_key(shared, share, identity.recipient().public_bytes)
    try:
        return aead.ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, stanza.body, None)
    except InvalidTag:
        return None
