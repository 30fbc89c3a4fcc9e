"""Subkeys and Argon2id: domain separation, an independent HKDF, limits."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.kdf import argon2
from hypothesis import given
from hypothesis import strategies as st

from strongroom.crypto import errors, kdf

EPOCH_KEY = bytes(range(32))
REPOSITORY_ID = bytes(range(100, 116))


def _hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 written out with hmac, independent of the code under test."""
    prk = hmac.digest(salt, ikm, hashlib.sha256)
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), hashlib.sha256)
        out += block
        counter += 1
    return out[:length]


def test_rfc5869_case_1_through_the_reference_helper() -> None:
    okm = _hkdf_sha256(
        bytes.fromhex("0b" * 22), bytes.fromhex("000102030405060708090a0b0c"),
        bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"), 42,
    )  # fmt: skip
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=16, max_size=16))
def test_subkey_is_hkdf_with_the_specified_salt_and_info(key: bytes, repository: bytes) -> None:
    for purpose in kdf.PURPOSES:
        expected = _hkdf_sha256(key, repository, f"strongroom.io/v1/{purpose}".encode(), 32)
        assert kdf.subkey(key, repository, purpose) == expected


def test_subkeys_are_separated_by_purpose_repository_and_epoch() -> None:
    keys = {kdf.subkey(EPOCH_KEY, REPOSITORY_ID, p) for p in kdf.PURPOSES}
    keys.add(kdf.subkey(EPOCH_KEY, bytes(16), "manifest-mac"))
    keys.add(kdf.subkey(bytes(32), REPOSITORY_ID, "manifest-mac"))
    assert len(keys) == len(kdf.PURPOSES) + 2


@pytest.mark.parametrize(
    ("key", "repository", "purpose"),
    [
        (bytes(31), REPOSITORY_ID, "recipient"),
        (EPOCH_KEY, bytes(15), "recipient"),
        (EPOCH_KEY, REPOSITORY_ID, ""),
        (EPOCH_KEY, REPOSITORY_ID, "Upper"),
        (EPOCH_KEY, REPOSITORY_ID, "a/b"),
    ],
)
def test_subkey_refuses_bad_input(key: bytes, repository: bytes, purpose: str) -> None:
    with pytest.raises(errors.CryptoError):
        kdf.subkey(key, repository, purpose)


@pytest.mark.parametrize(("purpose", "length"), [("chunker-table", 2048), ("chunker-prf", 16)])
def test_subkey_of_another_length_is_hkdf_with_that_length(purpose: str, length: int) -> None:
    info = f"strongroom.io/v1/{purpose}".encode()
    expected = _hkdf_sha256(EPOCH_KEY, REPOSITORY_ID, info, length)
    assert kdf.subkey(EPOCH_KEY, REPOSITORY_ID, purpose, length) == expected


@pytest.mark.parametrize("length", [0, -1, 255 * 32 + 1])
def test_subkey_refuses_lengths_hkdf_cannot_give(length: int) -> None:
    with pytest.raises(errors.CryptoError):
        kdf.subkey(EPOCH_KEY, REPOSITORY_ID, "chunker-table", length)


def test_recipient_identity_uses_the_recipient_subkey() -> None:
    identity = kdf.recipient_identity(EPOCH_KEY, REPOSITORY_ID)
    assert identity.secret == kdf.subkey(EPOCH_KEY, REPOSITORY_ID, "recipient")
    assert identity.recipient().encode().startswith("age1")


def test_argon2id_rfc9106_vector_through_the_same_library() -> None:
    """RFC 9106 §5.3 (with secret and associated data, which the slot format does not use)."""
    derive = argon2.Argon2id(
        salt=b"\x02" * 16, length=32, iterations=3, lanes=4, memory_cost=32,
        ad=b"\x04" * 12, secret=b"\x03" * 8,
    )  # fmt: skip
    assert derive.derive(b"\x01" * 32).hex() == (
        "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
    )


def test_argon2id_defaults_and_determinism() -> None:
    defaults = kdf.ARGON2_DEFAULTS
    assert (defaults.memory_kib, defaults.iterations, defaults.lanes) == (65536, 3, 1)
    one = kdf.argon2id(b"pw", bytes(16), memory_kib=64, iterations=1, lanes=1)
    assert one == kdf.argon2id(b"pw", bytes(16), memory_kib=64, iterations=1, lanes=1)
    assert one != kdf.argon2id(b"pw", bytes(15) + b"\x01", memory_kib=64, iterations=1, lanes=1)
    assert len(one) == 32


@pytest.mark.parametrize(
    ("memory", "iterations", "lanes", "salt"),
    [
        (1_048_577, 1, 1, bytes(16)),
        (64, 17, 1, bytes(16)),
        (64, 0, 1, bytes(16)),
        (128, 1, 9, bytes(16)),
        (64, 1, 0, bytes(16)),
        (7, 1, 1, bytes(16)),
        (64, 1, 1, bytes(15)),
    ],
)
def test_argon2id_limits(memory: int, iterations: int, lanes: int, salt: bytes) -> None:
    with pytest.raises(errors.UnsupportedParameters):
        kdf.argon2id(b"pw", salt, memory_kib=memory, iterations=iterations, lanes=lanes)
