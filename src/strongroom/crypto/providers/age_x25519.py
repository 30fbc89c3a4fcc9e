"""The ``age-x25519`` keyslot: the secret as an age file to one recipient (format.md §4.2).

``wrapped = age file to the recipient``, whose bind stanza carries ``SHA-256(context)``, so a
slot copied to another repository or slot id fails its bind check before anything else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from strongroom.crypto import ageformat, agekeys, errors
from strongroom.crypto.providers import base


@dataclasses.dataclass(frozen=True)
class AgeX25519Provider:
    """Wraps to ``recipient``; unwraps with ``identity`` when one is given."""

    TYPE: ClassVar[str] = "age-x25519"

    recipient: agekeys.Recipient
    identity: agekeys.Identity | None = None
    #: Random source for the age file (known-answer tests only; see ageformat).
    rng: Callable[[int], bytes] = dataclasses.field(default=os.urandom, repr=False, compare=False)

    def fields(self) -> dict[str, Any]:
        return {"recipient": self.recipient.encode()}

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        bind = hashlib.sha256(context).digest()
        return ageformat.encrypt_bytes([self.recipient], bind, secret, rng=self.rng)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        if self.identity is None:
            raise errors.NoMatchingIdentity(
                f"no identity for age keyslot recipient {self.recipient.encode()}"
            )
        bind = hashlib.sha256(context).digest()
        return ageformat.decrypt_bytes([self.identity], bind, wrapped)

    @classmethod
    def for_slot(
        cls, fields: Mapping[str, Any], credentials: base.Credentials
    ) -> AgeX25519Provider | None:
        text = fields.get("recipient")
        if not isinstance(text, str):
            raise errors.IntegrityError("age-x25519 keyslot: 'recipient' missing or not a string")
        try:
            recipient = agekeys.Recipient.parse(text)
        except errors.InvalidKeyText:
            raise errors.IntegrityError("age-x25519 keyslot: malformed 'recipient'") from None
        for identity in credentials.identities:
            if identity.recipient() == recipient:
                return cls(recipient, identity)
        return None

    @classmethod
    def for_wrapping(
        cls, fields: Mapping[str, Any], credentials: base.Credentials
    ) -> AgeX25519Provider | None:
        """A provider that can seal a new copy of the slot: the recipient is enough."""
        cls.for_slot(fields, credentials)  # validates the recipient field
        return cls(agekeys.Recipient.parse(str(fields["recipient"])))
