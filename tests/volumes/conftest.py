"""Volume data tests run against the filesystem and SeaweedFS, as the storage contract does."""

from __future__ import annotations

import pathlib

import pytest

from strongroom import clock
from strongroom.crypto import agekeys
from strongroom.crypto.providers.age_x25519 import AgeX25519Provider
from strongroom.repository import repo
from strongroom.repository.volumes import keys
from strongroom.storage import base, factory
from tests.storage.conftest import (  # noqa: F401  (fixtures)
    S3Opener,
    aws_env,
    aws_isolated,
    open_s3,
    s3_bucket,
    s3_prefix,
)


@pytest.fixture(params=["filesystem", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> base.Backend:
    """A fresh, empty backend of each provider."""
    if request.param == "filesystem":
        return factory.open_backend("filesystem", str(tmp_path / "store"), "")
    opener: S3Opener = request.getfixturevalue("open_s3")
    return opener("rw")


@pytest.fixture
def repository(backend: base.Backend) -> repo.Repository:
    """A new repository on ``backend`` whose offline recovery key is a fresh age identity."""
    recovery = agekeys.Identity.generate()
    return repo.Repository.create(
        backend, [AgeX25519Provider(recovery.recipient())], clock.SystemClock()
    )


@pytest.fixture
def vk(repository: repo.Repository) -> keys.VolumeKeys:
    """The volume keys of ``repository``'s first epoch."""
    return keys.for_epoch(repository.ring, 1)
