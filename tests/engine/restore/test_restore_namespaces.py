"""Target namespaces: created when missing (from the backed-up Namespace object), waited for
while terminating, never updated when they exist."""

from __future__ import annotations

import threading
import time

from strongroom.engine.restore import sanitize
from strongroom.kube import client, config
from strongroom.repository import repo as repo_mod
from strongroom.sandbox import server
from tests.engine.restore import helpers as h
from tests.kube.faultproxy import FaultProxy


def test_terminating_namespace_is_waited_for_then_created(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    h.create(source, "namespaces", h.namespace("shop", team="a"))
    h.create(source, "configmaps", h.configmap("c", "shop"))
    h.backup_from(source, repo, "b1", ["namespaces", "configmaps"], ["shop"])
    old_uid = h.create(target, "namespaces", h.namespace("shop", team="old"))["metadata"]["uid"]
    held = h.configmap("held", "shop")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    h.create(target, "configmaps", held)
    target.delete("namespaces", "shop")
    assert target.get("namespaces", "shop")["status"]["phase"] == "Terminating"

    def release() -> None:
        time.sleep(0.5)
        target.patch("configmaps", "held", {"metadata": {"finalizers": None}}, "shop")

    releaser = threading.Thread(target=release)
    releaser.start()
    try:
        out, _ = h.run_restore(target, repo)
    finally:
        releaser.join()

    assert out.phase == "Completed", out.errors
    namespace = target.get("namespaces", "shop")
    assert namespace["metadata"]["labels"]["team"] == "a"
    assert namespace["metadata"]["labels"][sanitize.RESTORE_LABEL] == "r1"
    assert namespace["metadata"]["uid"] != old_uid
    assert "c" in h.names(target, "configmaps", "shop")
    assert out.resources["v1/Namespace"] == ["shop(created)"]


def test_existing_namespace_is_left_as_it_is(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    h.create(source, "namespaces", h.namespace("shop", team="a"))
    h.create(source, "configmaps", h.configmap("c", "shop"))
    h.backup_from(source, repo, "b1", ["namespaces", "configmaps"], ["shop"])
    h.create(target, "namespaces", h.namespace("shop", team="live"))

    out, _ = h.run_restore(target, repo, existing_resource_policy="update")

    assert out.phase == "Completed" and out.warnings["namespaces"] == {}
    assert target.get("namespaces", "shop")["metadata"]["labels"]["team"] == "live"
    assert out.resources["v1/Namespace"] == ["shop(skipped)"]
    assert out.resources["v1/ConfigMap"] == ["shop/c(created)"]


def test_namespace_without_a_backed_up_object_is_created_bare(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    h.create(source, "namespaces", h.namespace("shop", team="a"))
    h.create(source, "configmaps", h.configmap("c", "shop"))
    h.backup_from(source, repo, "b1", ["configmaps"], ["shop"])

    out, _ = h.run_restore(target, repo, namespace_mappings={"shop": "copy"})

    assert out.phase == "Completed"
    labels = target.get("namespaces", "copy")["metadata"]["labels"]
    assert "team" not in labels and labels[sanitize.BACKUP_LABEL] == "b1"
    assert out.resources["v1/Namespace"] == ["copy(created)"]


def test_each_missing_namespace_is_looked_up_and_created_once_by_concurrent_workers(
    target_sandbox: server.Sandbox, repo: repo_mod.Repository
) -> None:
    items = [
        h.item("configmaps", ns, h.configmap(f"c{i}", ns))
        for i in range(40)
        for ns in ("shop", "other")
    ]
    h.write_backup(repo, "b1", items)
    proxy = FaultProxy(target_sandbox.url).start()
    proxy.delay = 0.01  # every answer takes a while: workers meet on the same namespace
    cluster = config.ClusterConfig(server=proxy.url, source="t", context="t")
    try:
        with client.Client(cluster) as kube:
            out, _ = h.run_restore(kube, repo)
    finally:
        proxy.stop()

    assert out.phase == "Completed" and out.counts["created"] == 82
    for ns in ("shop", "other"):
        assert proxy.count("GET", f"/api/v1/namespaces/{ns}") == 1
    assert proxy.count("POST", "/api/v1/namespaces?") == 2
    assert proxy.count("POST", "/api/v1/namespaces/") == 80
