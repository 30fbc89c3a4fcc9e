"""A backup taken by the backup engine, restored into another cluster under a mapping: the
namespace's objects come back with the same content."""

from __future__ import annotations

import pathlib
import tempfile
import threading
from concurrent import futures
from typing import Any

import pytest

from strongroom import clock
from strongroom.engine.backup import runner
from strongroom.engine.backup import spec as backup_spec
from strongroom.engine.restore import restorer, sanitize, spec
from strongroom.kube import client
from strongroom.repository import backups
from strongroom.repository import repo as repo_mod
from tests.engine.restore import helpers as h

CONTENT = ("configmaps", "secrets", "widgets.example.com", "deployments.apps")


def contents(kube: client.Client, namespace: str) -> dict[str, Any]:
    """The restorable content of a namespace's objects, without server-set or restore
    metadata (what a faithful restore keeps)."""
    found: dict[str, Any] = {}
    for resource in CONTENT:
        for obj in kube.list(resource, namespace):
            body = sanitize.strip(obj)
            meta = body["metadata"]
            meta.pop("namespace", None)
            labels = {k: v for k, v in (meta.pop("labels", None) or {}).items()}
            labels.pop(sanitize.BACKUP_LABEL, None)
            labels.pop(sanitize.RESTORE_LABEL, None)
            meta["labels"] = labels
            found[f"{resource}/{meta['name']}"] = body
    return found


def test_backup_engine_to_restore_engine(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    h.create(source, h.CRD, h.widget_crd())
    source.wait_for_condition(h.CRD, "widgets.example.com")
    source.discovery.refresh()
    h.create(source, "namespaces", h.namespace("shop", team="a"))
    h.create(source, "configmaps", h.configmap("settings", "shop", {"mode": "prod"}))
    h.create(source, "secrets", {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "creds", "namespace": "shop"}, "data": {"password": "c2VjcmV0"},
    })  # fmt: skip
    h.create(source, "widgets.example.com", h.widget("w", "shop"))
    h.create(source, "deployments.apps", {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
    })  # fmt: skip
    backed_up = runner.run(
        source,
        repo,
        backup_spec.BackupSpec(name="b1", included_namespaces=("shop",)),
        clock=clock.SystemClock(),
    )
    assert backed_up.phase == "Completed"

    out, _ = h.run_restore(target, repo, namespace_mappings={"shop": "shop-b"})

    assert out.phase == "Completed", out.errors
    before, after = contents(source, "shop"), contents(target, "shop-b")
    before.pop("configmaps/kube-root-ca.crt")
    after.pop("configmaps/kube-root-ca.crt")
    assert after == before
    assert target.get("namespaces", "shop-b")["metadata"]["labels"]["team"] == "a"
    assert "shop" not in h.names(target, "namespaces")


def test_a_large_run_is_handed_to_the_workers_a_few_items_at_a_time(
    target: client.Client, repo: repo_mod.Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.write_backup(
        repo, "b1", [h.item("configmaps", "shop", h.configmap(f"c{i}", "shop")) for i in range(120)]
    )
    in_pool = [0, 0]  # now, most
    lock = threading.Lock()

    def counted(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        finally:
            with lock:
                in_pool[0] -= 1

    class Pool(futures.ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
            if getattr(fn, "__name__", "") != "restore_item":  # discovery's pool, say
                return super().submit(fn, *args, **kwargs)
            with lock:
                in_pool[0] += 1
                in_pool[1] = max(in_pool)
            return super().submit(counted, fn, *args)

    monkeypatch.setattr(restorer.futures, "ThreadPoolExecutor", Pool)
    out = restorer.run(
        target, repo, spec.RestoreSpec(name="r1", backup_name="b1"), clock=clock.SystemClock(),
        workers=4,
    )  # fmt: skip

    assert out.phase == "Completed" and out.counts["created"] == 121
    assert 4 <= in_pool[1] <= restorer.QUEUED_PER_WORKER * 4


PV: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "PersistentVolume",
    "metadata": {"name": "pv-1"},
    "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]},
}
CLAIM: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "data", "namespace": "shop"},
    "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv-1"},
}


@pytest.mark.parametrize(("fields", "reads"), [({}, 1), ({"included_namespaces": ("shop",)}, 2)])
def test_the_archive_is_read_once_more_only_for_items_pulled_in(
    target: client.Client,
    repo: repo_mod.Repository,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: pathlib.Path,
    fields: dict[str, Any],
    reads: int,
) -> None:
    items = [h.item("configmaps", "shop", h.configmap(f"c{i:02}", "shop")) for i in range(24)]
    items += [
        h.item("persistentvolumeclaims", "shop", CLAIM),
        h.item("persistentvolumes", None, PV),
    ]
    h.write_backup(repo, "b1", items)
    opened: list[str] = []
    plain_open = backups.Backup.open

    def counting_open(self: backups.Backup, name: str) -> Any:
        opened.append(name)
        return plain_open(self, name)

    monkeypatch.setattr(backups.Backup, "open", counting_open)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the body store's file goes
    out, _ = h.run_restore(target, repo, **fields)

    assert out.phase == "Completed", out.errors
    assert out.counts["created"] == 27  # the namespace, 24 maps, the claim and its volume
    assert set(h.names(target, "configmaps", "shop")) >= {f"c{i:02}" for i in range(24)}
    assert h.names(target, "persistentvolumes") == ["pv-1"]
    assert opened.count("archive") == reads, "the planning pass, then once for pulled-in items"
    assert list(scratch.iterdir()) == [], "the body store leaves no file behind"
