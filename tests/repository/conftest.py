from __future__ import annotations

import dataclasses
import pathlib

import pytest

from strongroom import clock
from strongroom.crypto import agekeys
from strongroom.crypto.providers import base as provider_base
from strongroom.crypto.providers.age_x25519 import AgeX25519Provider
from strongroom.repository import repo
from strongroom.storage import base as storage_base
from strongroom.storage import factory


@dataclasses.dataclass
class Setup:
    backend: storage_base.Backend
    folder: pathlib.Path
    recovery: agekeys.Identity
    repo: repo.Repository

    @property
    def credentials(self) -> provider_base.Credentials:
        return provider_base.Credentials(identities=(self.recovery,))

    def reopen(self) -> repo.Repository:
        return repo.Repository.open(self.backend, self.credentials, clock.SystemClock())


@pytest.fixture
def setup(tmp_path: pathlib.Path) -> Setup:
    folder = tmp_path / "repo"
    backend = factory.open_backend("filesystem", str(folder))
    recovery = agekeys.Identity.generate()
    created = repo.Repository.create(
        backend, [AgeX25519Provider(recovery.recipient())], clock.SystemClock()
    )
    return Setup(backend, folder, recovery, created)
