"""age X25519 keys: recipients (``age1...``) and identities (``AGE-SECRET-KEY-1...``).

Both are immutable values. An :class:`Identity` holds a 32-byte X25519 secret; its ``repr``
shows only the matching recipient, and no error message ever contains key text.
"""

from __future__ import annotations

import dataclasses
import os

from cryptography.hazmat.primitives.asymmetric import x25519

from strongroom.crypto import _bech32, errors

RECIPIENT_HRP = "age"
IDENTITY_HRP = "AGE-SECRET-KEY-"
KEY_SIZE = 32


@dataclasses.dataclass(frozen=True)
class Recipient:
    """An X25519 public key, written ``age1`` + bech32 as age writes it."""

    public_bytes: bytes

    def __post_init__(self) -> None:
        if len(self.public_bytes) != KEY_SIZE:
            raise errors.InvalidKeyText("age recipient: public key is not 32 bytes")

    @classmethod
    def parse(cls, text: str) -> Recipient:
        """Parse ``age1...`` (lower case, as age writes it); raise InvalidKeyText otherwise."""
        if not text.startswith(RECIPIENT_HRP + "1"):
            raise errors.InvalidKeyText("malformed age recipient: expected 'age1...'")
        try:
            hrp, data = _bech32.decode(text)
        except _bech32.Bech32Error as exc:
            raise errors.InvalidKeyText(f"malformed age recipient ({exc})") from None
        if hrp != RECIPIENT_HRP or len(data) != KEY_SIZE:
            raise errors.InvalidKeyText("malformed age recipient: wrong prefix or length")
        return cls(data)

    def encode(self) -> str:
        """The ``age1...`` text of this recipient."""
        return _bech32.encode(RECIPIENT_HRP, self.public_bytes)

    def __str__(self) -> str:
        return self.encode()


@dataclasses.dataclass(frozen=True, repr=False)
class Identity:
    """An X25519 secret key; ``repr`` and ``str`` never show the secret."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_SIZE:
            raise errors.InvalidKeyText("age identity: secret is not 32 bytes")

    @classmethod
    def generate(cls) -> Identity:
        """A fresh identity from the OS CSPRNG."""
        return cls(os.urandom(KEY_SIZE))

    @classmethod
    def from_secret(cls, secret32: bytes) -> Identity:
        """The identity whose X25519 secret scalar is ``secret32`` (clamped on use, as in age)."""
        return cls(bytes(secret32))

    @classmethod
    def parse(cls, text: str) -> Identity:
        """Parse ``AGE-SECRET-KEY-1...`` (upper case, as age writes it)."""
        if not text.startswith(IDENTITY_HRP + "1"):
            raise errors.InvalidKeyText("malformed age identity: expected 'AGE-SECRET-KEY-1...'")
        try:
            hrp, data = _bech32.decode(text)
        except _bech32.Bech32Error as exc:
            raise errors.InvalidKeyText(f"malformed age identity ({exc})") from None
        if hrp != IDENTITY_HRP or len(data) != KEY_SIZE:
            raise errors.InvalidKeyText("malformed age identity: wrong prefix or length")
        return cls(data)

    def encode(self) -> str:
        """The ``AGE-SECRET-KEY-1...`` text (secret material: never log it)."""
        return _bech32.encode(IDENTITY_HRP.lower(), self.secret).upper()

    def private_key(self) -> x25519.X25519PrivateKey:
        """The ``cryptography`` private key object."""
        return x25519.X25519PrivateKey.from_private_bytes(self.secret)

    def recipient(self) -> Recipient:
        """The public recipient matching this identity."""
        return Recipient(self.private_key().public_key().public_bytes_raw())

    def __repr__(self) -> str:
        return f"Identity(recipient={self.recipient().encode()!r})"

    __str__ = __repr__


def parse_identity_file(text: str) -> list[Identity]:
    """Parse an age identity file: one identity a line, ``#`` comments and blank lines ignored.

    Raises InvalidKeyText naming the line number of the first malformed line, and when the file
    holds no identity at all.
    """
    identities: list[Identity] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(Identity.parse(line))
        except errors.InvalidKeyText:
            raise errors.InvalidKeyText(
                f"identity file line {number}: not an age identity"
            ) from None
    if not identities:
        raise errors.InvalidKeyText("identity file holds no age identity")
    return identities
