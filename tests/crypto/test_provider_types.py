"""What is specific to each built-in keyslot type: field parsing, limits, several credentials."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from strongroom.crypto import agekeys, errors, kdf
from strongroom.crypto.providers import age_x25519, base, passphrase
from tests.crypto import provider_cases

CONTEXT = b'{"slot":"a"}'
SALT = base64.b64encode(bytes(16)).decode()


def _kdf(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "name": "argon2id", "salt": SALT, "memoryKiB": 256, "iterations": 1, "lanes": 1,
    }  # fmt: skip
    value.update(changes)
    return {key: item for key, item in value.items() if item is not None}


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"kdf": "argon2id"},
        {"kdf": _kdf(name="scrypt")},
        {"kdf": _kdf(salt=None)},
        {"kdf": _kdf(salt="not base64!")},
        {"kdf": _kdf(salt=base64.b64encode(bytes(15)).decode())},
        {"kdf": _kdf(memoryKiB="256")},
        {"kdf": _kdf(iterations=True)},
        {"kdf": _kdf(lanes=1.0)},
        {"kdf": _kdf(extra=1)},
    ],
)
def test_malformed_passphrase_fields_are_integrity_errors(fields: dict[str, Any]) -> None:
    with pytest.raises(errors.IntegrityError):
        passphrase.PassphraseProvider.for_slot(fields, base.Credentials(passphrases=(b"x",)))


@pytest.mark.parametrize(
    "changes", [{"memoryKiB": 1_048_577}, {"iterations": 17}, {"lanes": 9}, {"iterations": 0}]
)
def test_passphrase_fields_beyond_limits_are_refused(changes: dict[str, int]) -> None:
    with pytest.raises(errors.UnsupportedParameters):
        passphrase.PassphraseProvider.for_slot(
            {"kdf": _kdf(**changes)}, base.Credentials(passphrases=(b"x",))
        )


def test_passphrase_with_the_default_parameters() -> None:
    provider = passphrase.PassphraseProvider.new(b"correct horse")
    assert provider.params == kdf.ARGON2_DEFAULTS and len(provider.salt) == 16
    wrapped = provider.wrap(b"keyring", CONTEXT)
    assert len(wrapped) == 12 + len(b"keyring") + 16
    opener = passphrase.PassphraseProvider.for_slot(
        provider.fields(), base.Credentials(passphrases=(b"correct horse",))
    )
    assert opener is not None and opener.unwrap(wrapped, CONTEXT) == b"keyring"


def test_each_new_passphrase_slot_has_its_own_salt() -> None:
    one = passphrase.PassphraseProvider.new(b"same", provider_cases.FAST_ARGON2)
    two = passphrase.PassphraseProvider.new(b"same", provider_cases.FAST_ARGON2)
    assert one.salt != two.salt


@pytest.mark.parametrize("recipient", [None, 7, "age1notakey", "AGE-SECRET-KEY-1XYZ"])
def test_malformed_age_fields_are_integrity_errors(recipient: object) -> None:
    fields = {} if recipient is None else {"recipient": recipient}
    with pytest.raises(errors.IntegrityError):
        age_x25519.AgeX25519Provider.for_slot(fields, base.Credentials())


def test_age_provider_without_identity_cannot_unwrap() -> None:
    identity = agekeys.Identity.generate()
    provider = age_x25519.AgeX25519Provider(identity.recipient())
    wrapped = provider.wrap(b"keyring", CONTEXT)
    with pytest.raises(errors.NoMatchingIdentity):
        provider.unwrap(wrapped, CONTEXT)
    with_key = age_x25519.AgeX25519Provider(identity.recipient(), identity)
    assert with_key.unwrap(wrapped, CONTEXT) == b"keyring"


def test_age_slot_moved_to_another_context_fails_its_bind() -> None:
    identity = agekeys.Identity.generate()
    provider = age_x25519.AgeX25519Provider(identity.recipient(), identity)
    wrapped = provider.wrap(b"keyring", CONTEXT)
    with pytest.raises(errors.IntegrityError, match="bind"):
        provider.unwrap(wrapped, b'{"slot":"b"}')


def test_age_for_slot_picks_the_matching_identity() -> None:
    mine, other = agekeys.Identity.generate(), agekeys.Identity.generate()
    fields = {"recipient": mine.recipient().encode()}
    found = age_x25519.AgeX25519Provider.for_slot(fields, base.Credentials((other, mine)))
    assert found is not None and found.identity == mine
    assert age_x25519.AgeX25519Provider.for_slot(fields, base.Credentials((other,))) is None
