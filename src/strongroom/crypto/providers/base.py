"""What a key provider is: the shape every keyslot type implements (docs/format.md §4.2).

A provider wraps and unwraps one secret (the canonical keyring) bound to a **context** (the
canonical JSON bytes of the slot context). A provider instance carries what it needs, for
example a recipient to wrap to and optionally an identity to unwrap with. ``fields()`` returns
the slot's clear type fields, never a secret. ``for_slot`` builds the provider that can open a
stored slot from the credentials the user supplied, or returns None when nothing in them could.

Unwrap failures: the wrong key raises :class:`errors.NoMatchingIdentity` or
:class:`errors.WrongPassphrase` (exit 7); wrapped bytes that are malformed, or fail an
authentication check that a wrong key cannot explain, raise :class:`errors.IntegrityError`
(exit 4). With an AEAD that is not key-committing (AES-GCM in passphrase slots) a flipped bit
and a wrong passphrase look the same, and are reported as the wrong passphrase.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from strongroom.crypto import agekeys


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Whatever the user supplied to open keyslots: age identities and passphrases."""

    identities: tuple[agekeys.Identity, ...] = ()
    passphrases: tuple[bytes, ...] = dataclasses.field(default=(), repr=False)


class KeyProvider(Protocol):
    """One keyslot type. Implementations register in :mod:`.registry`."""

    TYPE: ClassVar[str]

    def fields(self) -> dict[str, Any]:
        """The slot's clear type fields (JSON-ready; never secrets)."""
        ...

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        """``secret`` wrapped and bound to ``context``."""
        ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """The secret, if ``wrapped`` was made for ``context`` and this provider opens it."""
        ...

    @classmethod
    def for_slot(cls, fields: Mapping[str, Any], credentials: Credentials) -> KeyProvider | None:
        """The provider that may open a slot with these fields, or None if nothing could."""
        ...


class UriKeyProvider(KeyProvider, Protocol):
    """A key-service provider named by a URI such as ``aws-kms://alias/backup`` (``--kms``).

    The URI scheme is the keyslot type; :func:`.registry.for_uri` dispatches on it. Access to
    the key service comes from the environment (its SDK's standard configuration), never from
    :class:`Credentials`.
    """

    @classmethod
    def from_uri(cls, uri: str) -> UriKeyProvider:
        """A provider wrapping with the key ``uri`` names; UsageError if it is malformed."""
        ...
