"""Fixtures for restore tests: a source and a target sandbox cluster, a filesystem repository,
and backups written from what the source cluster serves (see :mod:`helpers`)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from strongroom import clock
from strongroom.crypto import agekeys
from strongroom.crypto.providers import age_x25519
from strongroom.kube import client, retry
from strongroom.repository import repo as repo_mod
from strongroom.sandbox import server
from strongroom.storage import factory

FAST_RETRY = retry.RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05)


def _client(instance: server.Sandbox, path: pathlib.Path) -> client.Client:
    return client.Client.from_kubeconfig(instance.write_kubeconfig(path), retry_policy=FAST_RETRY)


@pytest.fixture
def source(sandbox: server.Sandbox, tmp_path: pathlib.Path) -> Iterator[client.Client]:
    """A client of the cluster backups are taken from (the ``sandbox`` fixture)."""
    with _client(sandbox, tmp_path / "source-kubeconfig") as kube:
        yield kube


@pytest.fixture
def target_sandbox() -> Iterator[server.Sandbox]:
    instance = server.Sandbox().start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def target(target_sandbox: server.Sandbox, tmp_path: pathlib.Path) -> Iterator[client.Client]:
    """A client of a second, separate cluster restores go into."""
    with _client(target_sandbox, tmp_path / "target-kubeconfig") as kube:
        yield kube


@pytest.fixture
def repo(tmp_path: pathlib.Path) -> repo_mod.Repository:
    """A new repository in a folder, with one age keyslot."""
    identity = agekeys.Identity.generate()
    provider = age_x25519.AgeX25519Provider(identity.recipient(), identity)
    backend = factory.open_backend("filesystem", str(tmp_path / "repo"))
    return repo_mod.Repository.create(backend, [provider], clock.SystemClock())
