"""One entry per registered keyslot type, for the provider contract suite.

A provider module that registers a new type adds a case here; ``test_every_type_has_a_case``
fails until it does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from strongroom.crypto import agekeys, errors, kdf
from strongroom.crypto.providers import age_x25519, base, passphrase

FAST_ARGON2 = kdf.Argon2Params(memory_kib=256, iterations=1, lanes=1)


@dataclasses.dataclass(frozen=True)
class Case:
    provider: base.KeyProvider
    credentials: base.Credentials
    wrong: base.Credentials
    #: The error a failed final authentication reports: IntegrityError when the scheme is
    #: key-committing, the wrong-key class when a wrong key and tampering look the same.
    tag_failure: type[errors.CryptoError]
    #: Text that must never appear in fields, reprs or error messages.
    secrets: tuple[str, ...]


def _age() -> Case:
    identity, other = agekeys.Identity.generate(), agekeys.Identity.generate()
    return Case(
        provider=age_x25519.AgeX25519Provider(identity.recipient()),
        credentials=base.Credentials(identities=(other, identity)),
        wrong=base.Credentials(identities=(other,), passphrases=(b"nope",)),
        tag_failure=errors.IntegrityError,
        secrets=(identity.encode(), identity.secret.hex()),
    )


def _passphrase() -> Case:
    return Case(
        provider=passphrase.PassphraseProvider.new(b"open sesame 1", FAST_ARGON2),
        credentials=base.Credentials(passphrases=(b"wrong first", b"open sesame 1")),
        wrong=base.Credentials(
            identities=(agekeys.Identity.generate(),), passphrases=(b"open sesame 2",)
        ),
        tag_failure=errors.WrongPassphrase,
        secrets=("open sesame 1", b"open sesame 1".hex()),
    )


CASES: dict[str, Callable[[], Case]] = {
    age_x25519.AgeX25519Provider.TYPE: _age,
    passphrase.PassphraseProvider.TYPE: _passphrase,
}
