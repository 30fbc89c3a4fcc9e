"""Fixtures for the crypto tests: fixed identities and the real ``age`` binary."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from strongroom.crypto import agekeys

AGE_HINT = "the age CLI is required (make debian-packages, or apt-get install -y age)"


@pytest.fixture(scope="session")
def age_bin() -> str:
    """Path of Debian's ``age``; the interop tests fail (never skip) without it."""
    path = shutil.which("age")
    if path is None:
        pytest.fail(AGE_HINT)
    return path


@pytest.fixture(scope="session")
def age_keygen_bin() -> str:
    path = shutil.which("age-keygen")
    if path is None:
        pytest.fail(AGE_HINT)
    return path


@pytest.fixture(scope="session")
def alice() -> agekeys.Identity:
    return agekeys.Identity.from_secret(hashlib.sha256(b"alice").digest())


@pytest.fixture(scope="session")
def bob() -> agekeys.Identity:
    return agekeys.Identity.from_secret(hashlib.sha256(b"bob").digest())


@pytest.fixture(scope="session")
def bind() -> bytes:
    return hashlib.sha256(b'{"format":"strongroom.io/object/v1"}').digest()
