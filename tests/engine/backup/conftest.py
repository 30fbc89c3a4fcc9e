"""Backups against the sandbox API server into a real filesystem repository."""

from __future__ import annotations

import dataclasses
import io
import json
import pathlib
import re
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest

from strongroom import clock
from strongroom.archive import compress, writer
from strongroom.crypto import agekeys
from strongroom.crypto.providers import age_x25519
from strongroom.engine import logs, results
from strongroom.engine.backup import collector, runner, spec
from strongroom.kube import client, retry
from strongroom.repository import repo
from strongroom.storage import factory

FAST_RETRY = retry.RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.02)


@pytest.fixture
def kube(sandbox_kubeconfig: pathlib.Path) -> Iterator[client.Client]:
    with client.Client.from_kubeconfig(
        sandbox_kubeconfig, retry_policy=FAST_RETRY, qps=10_000, burst=10_000
    ) as c:
        yield c


@pytest.fixture
def repo_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "repo"


@pytest.fixture
def repository(repo_dir: pathlib.Path) -> repo.Repository:
    identity = agekeys.Identity.generate()
    provider = age_x25519.AgeX25519Provider(identity.recipient(), identity)
    backend = factory.open_backend("filesystem", str(repo_dir))
    return repo.Repository.create(backend, [provider], clock.SystemClock())


def stored_files(root: pathlib.Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def backup(
    kube: client.Client, repository: repo.Repository, name: str = "b1", **fields: Any
) -> runner.Outcome:
    return runner.run(kube, repository, spec.BackupSpec(name, **fields), clock=clock.SystemClock())


def archive_entries(repository: repo.Repository, name: str) -> dict[str, Any]:
    """path -> parsed JSON (or text for metadata/version), read with the stdlib tar reader."""
    plain = b"".join(compress.decompress_stream(repository.backup(name).open("archive")))
    out: dict[str, Any] = {}
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
        for member in tar.getmembers():
            assert member.isfile(), member.name
            extracted = tar.extractfile(member)
            assert extracted is not None
            data = extracted.read()
            out[member.name] = (
                data.decode() if member.name == "metadata/version" else json.loads(data)
            )
    return out


def document(repository: repo.Repository, name: str, type_: str) -> Any:
    data = b"".join(repository.backup(name).open(type_))
    text = compress.decompress_document(data)
    return text.decode() if type_ == "log" else json.loads(text)


def item_paths(entries: dict[str, Any], prefix: str = "resources/") -> set[str]:
    return {p for p in entries if p.startswith(prefix)}


def configmap(name: str, namespace: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "data": {"key": name},
    }


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


@dataclasses.dataclass
class Collected:
    items: list[writer.Item]
    results: results.Results
    log: logs.RunLog
    collector: collector.Collector

    def names(self, group_resource: str) -> set[str]:
        """``ns/name`` (or ``name``) of every item of ``group_resource`` collected."""
        return {
            f"{i.namespace}/{i.name}" if i.namespace else i.name
            for i in self.items
            if i.group_resource == group_resource
        }

    def namespaces(self, group_resource: str = "configmaps") -> set[str]:
        return {
            i.namespace for i in self.items if i.group_resource == group_resource and i.namespace
        }

    @property
    def resources(self) -> set[str]:
        return {i.group_resource for i in self.items}

    def messages(self) -> list[str]:
        """The ``msg`` of every line of the log, in order."""
        text = self.log.render().decode()
        return [json.loads(m) for m in re.findall(r' msg=("(?:[^"\\]|\\.)*")', text)]


def collect(kube: client.Client, **fields: Any) -> Collected:
    """Run the collector alone (no repository) for a spec named ``b``."""
    found = results.Results()
    log = logs.RunLog(clock.SystemClock(), results=found)
    coll = collector.Collector(kube, spec.BackupSpec("b", **fields), log=log)
    items = list(coll.items())
    assert len({(i.group_resource, i.namespace, i.name) for i in items}) == len(items)
    return Collected(items, found, log, coll)
