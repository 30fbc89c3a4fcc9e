"""Whole backups into a filesystem repository, read back; failures and what they leave behind."""

from __future__ import annotations

import datetime
import json
import pathlib

import pytest
import zstandard

from strongroom import clock
from strongroom.archive import layout, reader
from strongroom.engine.backup import runner, spec
from strongroom.kube import client, config
from strongroom.kube import errors as kube_errors
from strongroom.repository import errors as repo_errors
from strongroom.repository import repo
from strongroom.sandbox import server
from tests.engine.backup.conftest import (
    FAST_RETRY,
    archive_entries,
    backup,
    configmap,
    document,
    namespace,
    stored_files,
)
from tests.kube.faultproxy import Fault, FaultProxy

SECRET_VALUE = "hunter2-do-not-log"


@pytest.fixture
def shop(kube: client.Client) -> client.Client:
    kube.create("namespaces", namespace("shop"))
    kube.create("configmaps", configmap("web", "shop", app="web"))
    kube.create(
        "secrets",
        {"metadata": {"name": "creds", "namespace": "shop"}, "stringData": {"pw": SECRET_VALUE}},
    )
    kube.create(
        "storageclasses",
        {"metadata": {"name": "fast"}, "provisioner": "example.com/disk"},
    )
    return kube


class Recording:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def update(self, items: int, resource: str) -> None:
        self.calls.append((items, resource))


def test_backup_reads_back_in_velero_layout(
    shop: client.Client, repository: repo.Repository, sandbox: server.Sandbox
) -> None:
    progress = Recording()
    the_spec = spec.BackupSpec("nightly", ttl=datetime.timedelta(hours=1))
    before = clock.SystemClock().now().replace(microsecond=0)
    outcome = runner.run(shop, repository, the_spec, clock=clock.SystemClock(), progress=progress)
    assert (outcome.phase, outcome.warnings, outcome.errors) == ("Completed", 0, 0)

    entries = archive_entries(repository, "nightly")
    paths = list(entries)
    assert paths[0] == "metadata/version" and entries["metadata/version"] == "1.1.0\n"
    assert all(layout.parse_item_path(p) is not None for p in paths[1:])
    assert outcome.items == len(paths) - 1
    assert {
        "resources/configmaps/namespaces/shop/web.json",
        "resources/secrets/namespaces/shop/creds.json",
        "resources/namespaces/cluster/shop.json",
        "resources/storageclasses.storage.k8s.io/cluster/fast.json",
        "resources/services/namespaces/default/kubernetes.json",
    } <= set(paths)
    # The project's own strict reader agrees with the stock tar reader.
    read = list(reader.iter_items(repository.backup("nightly").open("archive")))
    assert [r.path for r in read] == paths
    assert all(json.loads(r.body) == entries[r.path] for r in read[1:])
    web = entries["resources/configmaps/namespaces/shop/web.json"]
    assert web == shop.get("configmaps", "web", "shop")  # as the API server returned it

    listed = document(repository, "nightly", "resources")
    assert listed["v1/ConfigMap"] == sorted(listed["v1/ConfigMap"])
    assert "shop/web" in listed["v1/ConfigMap"] and listed["v1/Secret"] == ["shop/creds"]
    assert listed["storage.k8s.io/v1/StorageClass"] == ["fast", "local-path"]
    assert sum(len(v) for v in listed.values()) == outcome.items
    empty = {"strongroom": [], "cluster": [], "namespaces": {}}
    assert document(repository, "nightly", "results") == {"warnings": empty, "errors": empty}
    log = document(repository, "nightly", "log")
    assert 'msg="backup nightly started"' in log and "Completed" in log
    assert SECRET_VALUE not in log and "aHVudGVyMi1kby1ub3QtbG9n" not in log

    stored = repository.backup("nightly").manifest
    status = stored.status
    assert stored.spec == the_spec.to_dict() and stored.name == "nightly"
    assert status["phase"] == "Completed" and status["formatVersion"] == "1.1.0"
    assert status["version"] == 1 and (status["warnings"], status["errors"]) == (0, 0)
    assert status["progress"] == {"totalItems": outcome.items, "itemsBackedUp": outcome.items}
    started = clock.parse_rfc3339(status["startTimestamp"])
    assert before <= started <= clock.parse_rfc3339(status["completionTimestamp"])
    assert clock.parse_rfc3339(status["expiration"]) == started + datetime.timedelta(hours=1)
    assert status["sourceCluster"] == {"gitVersion": "v1.33.5+k3s1", "server": sandbox.url}
    assert "failureReason" not in status
    assert outcome.manifest.status == status
    assert [n for n, _ in progress.calls] == list(range(1, outcome.items + 1))
    assert {"configmaps", "secrets", "namespaces"} <= {r for _, r in progress.calls}


def test_the_manifest_keeps_scoped_filters_labels_and_annotations(
    shop: client.Client, repository: repo.Repository
) -> None:
    outcome = backup(
        shop,
        repository,
        "scoped",
        included_namespaces=("shop",),
        included_cluster_scoped_resources=("storageclasses",),
        excluded_namespace_scoped_resources=("secrets",),
        labels={"team": "payments"},
        annotations={"example.com/ticket": "OPS-42: before the upgrade"},
    )
    assert outcome.phase == "Completed"
    stored = repository.backup("scoped").manifest.spec
    assert stored["includedClusterScopedResources"] == ["storageclasses"]
    assert stored["excludedNamespaceScopedResources"] == ["secrets"]
    assert stored["metadata"] == {
        "labels": {"team": "payments"},
        "annotations": {"example.com/ticket": "OPS-42: before the upgrade"},
    }
    again = spec.BackupSpec.from_dict("scoped", stored)
    assert again.labels == {"team": "payments"} and again.scoped_filters
    listed = document(repository, "scoped", "resources")
    assert listed["storage.k8s.io/v1/StorageClass"] == ["fast", "local-path"]
    assert "shop/web" in listed["v1/ConfigMap"] and "v1/Secret" not in listed


def test_a_failed_list_gives_partially_failed(
    sandbox: server.Sandbox, repository: repo.Repository, kube: client.Client
) -> None:
    kube.create("namespaces", namespace("shop"))
    kube.create("configmaps", configmap("web", "shop"))
    kube.create("secrets", {"metadata": {"name": "s", "namespace": "shop"}})
    proxy = FaultProxy(sandbox.url).start()
    try:
        proxy.faults.append(Fault("GET", "/api/v1/secrets", status=403, times=100))
        with through_proxy(proxy) as through:
            outcome = backup(through, repository, "partial")
    finally:
        proxy.stop()
    assert (outcome.phase, outcome.errors) == ("PartiallyFailed", 1)
    results = document(repository, "partial", "results")
    assert len(results["errors"]["cluster"]) == 1
    assert results["errors"]["cluster"][0].startswith("cannot list secrets: ")
    paths = archive_entries(repository, "partial")
    assert "resources/configmaps/namespaces/shop/web.json" in paths
    assert not [p for p in paths if p.startswith("resources/secrets/")]
    status = repository.backup("partial").manifest.status
    assert (status["phase"], status["errors"]) == ("PartiallyFailed", 1)


def test_a_taken_name_writes_nothing(
    kube: client.Client, repository: repo.Repository, repo_dir: pathlib.Path
) -> None:
    backup(kube, repository, "once")
    before = stored_files(repo_dir)
    with pytest.raises(repo_errors.NameTaken):
        backup(kube, repository, "once")
    assert stored_files(repo_dir) == before


class Boom(Exception):
    pass


class FailingAt:
    def __init__(self, at: int) -> None:
        self.at = at

    def update(self, items: int, resource: str) -> None:
        if items == self.at:
            raise Boom(f"failed at item {items}")


def test_an_exception_mid_archive_leaves_nothing(
    shop: client.Client, repository: repo.Repository, repo_dir: pathlib.Path
) -> None:
    before = stored_files(repo_dir)
    the_spec = spec.BackupSpec("doomed")
    with pytest.raises(Boom):
        runner.run(shop, repository, the_spec, clock=clock.SystemClock(), progress=FailingAt(3))
    assert stored_files(repo_dir) == before
    assert repository.backups() == []
    # The name is free again: the claim went with the rest.
    assert runner.run(shop, repository, the_spec, clock=clock.SystemClock()).phase == "Completed"


class StopsCluster:
    def __init__(self, sandbox: server.Sandbox) -> None:
        self.sandbox = sandbox

    def update(self, items: int, resource: str) -> None:
        if items == 1:
            self.sandbox.stop()


def test_losing_the_cluster_mid_run_keeps_a_failed_backup(
    shop: client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    the_spec = spec.BackupSpec("lost")
    outcome = runner.run(
        shop, repository, the_spec, clock=clock.SystemClock(), progress=StopsCluster(sandbox)
    )
    assert outcome.phase == "Failed" and outcome.failure_reason
    assert "unreachable" in outcome.failure_reason
    kept = repository.backup("lost")
    assert kept.manifest.status["phase"] == "Failed"
    assert kept.manifest.status["failureReason"] == outcome.failure_reason
    assert kept.manifest.status["errors"] >= 1
    entries = archive_entries(repository, "lost")  # a whole, readable archive of what was taken
    assert 1 <= len(entries) - 1 == outcome.items
    # Namespace objects come last, from a list that can no longer succeed.
    assert not [p for p in entries if p.startswith("resources/namespaces/")]
    results = document(repository, "lost", "results")
    assert results["errors"]["strongroom"] == [f"backup failed: {outcome.failure_reason}"]


def test_an_unreachable_cluster_fails_before_anything_is_written(
    repository: repo.Repository, repo_dir: pathlib.Path
) -> None:
    before = stored_files(repo_dir)
    cluster = config.ClusterConfig(server="http://127.0.0.1:9", source="test", context="test")
    with (
        client.Client(cluster, retry_policy=FAST_RETRY) as nowhere,
        pytest.raises(kube_errors.ApiUnreachable),
    ):
        backup(nowhere, repository, "never")
    assert stored_files(repo_dir) == before


def through_proxy(proxy: FaultProxy) -> client.Client:
    cluster = config.ClusterConfig(server=proxy.url, source="test", context="test")
    return client.Client(cluster, retry_policy=FAST_RETRY)


def _deployment(name: str, namespace: str) -> dict[str, object]:
    labels = {"app": name}
    containers = [{"name": "c", "image": "x"}]
    template = {"metadata": {"labels": labels}, "spec": {"containers": containers}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"matchLabels": labels}, "template": template},
    }


def test_a_group_whose_discovery_fails_partially_fails_the_backup_naming_it(
    shop: client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    shop.create("deployments.apps", _deployment("web", "shop"))
    proxy = FaultProxy(sandbox.url).start()
    try:
        proxy.faults.append(Fault("GET", "/apis/apps/", status=503, times=1000))
        with through_proxy(proxy) as kube:
            outcome = backup(kube, repository, "no-apps")
    finally:
        proxy.stop()
    assert (outcome.phase, outcome.warnings, outcome.errors) == ("PartiallyFailed", 0, 1)
    found = document(repository, "no-apps", "results")
    [error] = found["errors"]["strongroom"]
    assert error.startswith("discovery of API group apps failed: ") and "503" in error
    assert error.endswith("its resources are not in the backup")
    assert found["warnings"]["strongroom"] == []
    log = document(repository, "no-apps", "log")
    assert "level=error" in log and "discovery of API group apps failed" in log
    status = repository.backup("no-apps").manifest.status
    assert (status["phase"], status["errors"]) == ("PartiallyFailed", 1)
    paths = archive_entries(repository, "no-apps")
    assert "resources/configmaps/namespaces/shop/web.json" in paths, "the rest is backed up"
    assert not [p for p in paths if ".apps/" in p]


def test_a_group_gone_between_two_discovery_requests_is_no_failure(
    shop: client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    proxy = FaultProxy(sandbox.url).start()
    try:  # a CRD deleted after /apis listed its group: nothing of it is left to back up
        proxy.faults.append(Fault("GET", "/apis/batch/v1", status=404, times=1000))
        with through_proxy(proxy) as kube:
            outcome = backup(kube, repository, "no-batch")
    finally:
        proxy.stop()
    assert (outcome.phase, outcome.warnings, outcome.errors) == ("Completed", 0, 0)


def test_namespaces_that_cannot_be_listed_fail_the_backup(
    sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    proxy = FaultProxy(sandbox.url).start()
    try:
        proxy.faults.append(Fault("GET", "/api/v1/namespaces?", status=500, times=1000))
        with through_proxy(proxy) as kube:
            outcome = backup(kube, repository, "blind")
    finally:
        proxy.stop()
    assert outcome.phase == "Failed" and outcome.items == 0
    assert outcome.failure_reason is not None
    assert outcome.failure_reason.startswith("cannot list namespaces: ")
    status = repository.backup("blind").manifest.status
    assert (status["phase"], status["failureReason"]) == ("Failed", outcome.failure_reason)
    assert list(archive_entries(repository, "blind")) == ["metadata/version"]


def zstd_frames(data: bytes) -> list[bytes]:
    """The decompressed content of each zstd frame (skippable padding frames left out)."""
    frames = []
    while data:
        magic = int.from_bytes(data[:4], "little")
        if magic & 0xFFFFFFF0 == 0x184D2A50:
            data = data[8 + int.from_bytes(data[4:8], "little") :]
            continue
        dobj = zstandard.ZstdDecompressor().decompressobj()
        frames.append(dobj.decompress(data))
        data = dobj.unused_data
    return frames


def test_each_secret_is_a_zstd_frame_of_its_own(
    shop: client.Client, repository: repo.Repository
) -> None:
    shop.create("secrets", {"metadata": {"name": "more", "namespace": "shop"}})
    backup(shop, repository, "frames")
    frames = zstd_frames(b"".join(repository.backup("frames").open("archive")))
    holding = {
        path: [f for f in frames if path.encode() in f]
        for path in (
            "resources/secrets/namespaces/shop/creds.json",
            "resources/secrets/namespaces/shop/more.json",
        )
    }
    for path, found in holding.items():
        assert len(found) == 1, path
        assert found[0].startswith(path.encode()) and found[0].count(b"ustar") == 1
    assert sum(f.count(b"ustar") for f in frames) > 2  # the rest shares frames
