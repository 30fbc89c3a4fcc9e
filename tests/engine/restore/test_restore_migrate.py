"""Restoring into a second cluster under a namespace mapping: references follow the mapping,
server-set fields are allocated afresh, the restore is recorded beside the backup."""

from __future__ import annotations

import json
import time
from typing import Any

from strongroom.archive import compress
from strongroom.engine.restore import sanitize
from strongroom.kube import client
from strongroom.repository import repo as repo_mod
from tests.engine.restore import helpers as h

RBAC = "rbac.authorization.k8s.io/v1"


def populate(kube: client.Client) -> None:
    h.create(kube, "namespaces", {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"team": "a"}, "annotations": {"owner": "ops"}},
    })  # fmt: skip
    h.create(kube, "configmaps", h.configmap("settings", "shop", {"mode": "prod"}, app="web"))
    h.create(kube, "serviceaccounts", {
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "shop"},
    })  # fmt: skip
    h.create(kube, "roles", {
        "apiVersion": RBAC, "kind": "Role", "metadata": {"name": "reader", "namespace": "shop"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    })  # fmt: skip
    subjects = [{"kind": "ServiceAccount", "name": "builder", "namespace": "shop"}]
    h.create(kube, "rolebindings", {
        "apiVersion": RBAC, "kind": "RoleBinding",
        "metadata": {"name": "builder", "namespace": "shop"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": subjects,
    })  # fmt: skip
    h.create(kube, "clusterrolebindings", {
        "apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "shop-builder"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": subjects,
    })  # fmt: skip
    h.create(kube, "persistentvolumes", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-shop"},
        "spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": "/data/shop"},
            "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "data",
                         "uid": "0d2c0d3e-aaaa-bbbb-cccc-000000000001", "apiVersion": "v1"},
        },
    })  # fmt: skip
    h.create(kube, "persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "shop",
                     "annotations": {"pv.kubernetes.io/bind-completed": "yes"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv-shop",
                 "resources": {"requests": {"storage": "1Gi"}}},
    })  # fmt: skip
    h.create(kube, "services", h.service("web", "shop", type="NodePort"))
    h.create(kube, "pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"nodeName": "node-1", "serviceAccountName": "builder",
                 "containers": [{"name": "web", "image": "nginx"}]},
    })  # fmt: skip


RESOURCES = [
    "namespaces",
    "configmaps",
    "serviceaccounts",
    "roles",
    "rolebindings",
    "clusterrolebindings",
    "persistentvolumes",
    "persistentvolumeclaims",
    "services",
    "pods",
]


def test_restore_into_another_cluster_under_a_mapping(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    populate(source)
    source_web = source.get("services", "web", "shop")["spec"]
    source_ip, source_port = source_web["clusterIP"], source_web["ports"][0]["nodePort"]
    h.backup_from(source, repo, "b1", RESOURCES, ["shop"])
    # The target already holds the source's cluster IP and node port: a restore that kept
    # them would be refused.
    h.create(
        target,
        "services",
        h.service("taken", "default", node_port=source_port, clusterIP=source_ip, type="NodePort"),
    )

    out, events = h.run_restore(
        target, repo, namespace_mappings={"shop": "shop-copy"}, include_cluster_resources=True
    )

    assert out.phase == "Completed", out.errors
    assert out.errors == {"strongroom": [], "cluster": [], "namespaces": {}}
    namespace = target.get("namespaces", "shop-copy")
    assert namespace["metadata"]["labels"]["team"] == "a"
    assert namespace["metadata"]["annotations"]["owner"] == "ops"
    assert namespace["metadata"]["labels"][sanitize.RESTORE_LABEL] == "r1"
    assert "shop" not in h.names(target, "namespaces")

    binding = target.get("rolebindings", "builder", "shop-copy")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "builder", "namespace": "shop-copy"}
    ]
    cluster_binding = target.get("clusterrolebindings", "shop-builder")
    assert cluster_binding["subjects"][0]["namespace"] == "shop-copy"

    # The restore points the volume at the claim's new namespace, without the old uid; the
    # target cluster's binder then binds the two, as a real cluster's does.
    claim = wait_bound(target, "data", "shop-copy")
    assert claim["spec"]["volumeName"] == "pv-shop"
    pv = target.get("persistentvolumes", "pv-shop")
    assert pv["spec"]["claimRef"]["namespace"] == "shop-copy"
    assert pv["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]
    assert pv["status"]["phase"] == "Bound"

    web = target.get("services", "web", "shop-copy")
    assert web["spec"]["clusterIP"] not in ("", source_ip)
    assert web["spec"]["ports"][0]["nodePort"] != source_port

    pod = target.get("pods", "web", "shop-copy")
    # the source's node is dropped; the target's scheduler picks one of its own
    assert pod["spec"].get("nodeName") in (None, "sandbox-1", "sandbox-2")
    assert pod["metadata"]["labels"] == {
        sanitize.BACKUP_LABEL: "b1",
        sanitize.RESTORE_LABEL: "r1",
    }
    settings = target.get("configmaps", "settings", "shop-copy")
    assert settings["data"] == {"mode": "prod"}
    assert (
        settings["metadata"]["uid"]
        != source.get("configmaps", "settings", "shop")["metadata"]["uid"]
    )

    assert out.resources["v1/Namespace"] == ["shop-copy(created)"]
    assert out.resources[f"{RBAC}/ClusterRoleBinding"] == ["shop-builder(created)"]
    assert "shop-copy/web(created)" in out.resources["v1/Pod"]
    assert out.counts["created"] >= 10 and out.counts["failed"] == 0
    order = [e.item.split()[0] for e in events]
    assert (
        order.index("namespaces")
        < order.index("persistentvolumes")
        < order.index("persistentvolumeclaims")
        < order.index("serviceaccounts")
        < order.index("configmaps")
        < order.index("pods")
        < order.index("services")
    )
    assert events[-1].done == events[-1].total == len(events)

    stored = repo.restore("r1")
    assert stored.manifest.kind == "Restore"
    status: dict[str, Any] = stored.manifest.status
    assert status["phase"] == "Completed"
    assert status["progress"] == {"totalItems": len(events), "itemsRestored": len(events)}
    assert status["errors"] == 0 and status["warnings"] == out.warning_count
    assert stored.manifest.spec["namespaceMapping"] == {"shop": "shop-copy"}
    resources = json.loads(compress.decompress_document(b"".join(stored.open("resources"))))
    assert resources == out.resources
    results = json.loads(compress.decompress_document(b"".join(stored.open("results"))))
    assert results["errors"] == out.errors and results["warnings"] == out.warnings
    log = compress.decompress_document(b"".join(stored.open("log"))).decode()
    assert f'msg="restoring {len(events)} items of backup b1"' in log
    assert "restore done" in log


def wait_bound(kube: client.Client, name: str, namespace: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    claim = kube.get("persistentvolumeclaims", name, namespace)
    while claim["status"].get("phase") != "Bound" and time.monotonic() < deadline:
        time.sleep(0.02)
        claim = kube.get("persistentvolumeclaims", name, namespace)
    return dict(claim)
