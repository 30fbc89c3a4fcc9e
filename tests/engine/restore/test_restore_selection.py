"""Filters and selectors at restore time against a real cluster: what is selected, what is
pulled in with it, and the namespaces made for it."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.engine.restore import sanitize
from strongroom.kube import client
from strongroom.repository import repo as repo_mod
from tests.engine.restore import helpers as h


def populate(kube: client.Client) -> None:
    h.create(kube, "namespaces", {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"team": "a"}, "annotations": {"owner": "ops"}},
    })  # fmt: skip
    h.create(kube, "namespaces", h.namespace("tools"))
    h.create(kube, "configmaps", h.configmap("web", "shop", app="web"))
    h.create(kube, "configmaps", h.configmap("db", "shop", app="db"))
    h.create(kube, "configmaps", h.configmap("ci", "tools", app="web"))
    h.create(kube, "secrets", {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "creds", "namespace": "shop", "labels": {"app": "web"}},
        "data": {"password": "c2VjcmV0"},
    })  # fmt: skip
    h.create(kube, "persistentvolumes", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-web"},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "hostPath": {"path": "/web"}, "persistentVolumeReclaimPolicy": "Retain",
                 "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "shop",
                              "name": "data"}},
    })  # fmt: skip
    h.create(kube, "persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "shop"},
        "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv-web",
                 "resources": {"requests": {"storage": "1Gi"}}},
    })  # fmt: skip
    h.create(kube, "pods", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx"}],
                 "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]},
    })  # fmt: skip


RESOURCES = [
    "namespaces",
    "configmaps",
    "secrets",
    "persistentvolumes",
    "persistentvolumeclaims",
    "pods",
]


def restored(kube: client.Client) -> set[str]:
    """What carries this restore's label, as ``resource ns/name``."""
    found = set()
    for resource in RESOURCES:
        for obj in kube.list(resource, label_selector=f"{sanitize.RESTORE_LABEL}=r1"):
            meta = obj["metadata"]
            found.add(f"{resource} {meta.get('namespace', '-')}/{meta['name']}")
    return found


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            # The pod pulls in its claim, which pulls in its volume (cluster-scoped, yet
            # restored: it is an additional item); the namespace is made from the backup.
            {"label_selector": "app=web", "included_namespaces": ("shop",)},
            {
                "namespaces -/shop",
                "configmaps shop/web",
                "secrets shop/creds",
                "pods shop/web",
                "persistentvolumeclaims shop/data",
                "persistentvolumes -/pv-web",
            },
        ),
        (
            {"or_label_selectors": ("app=db", "app=nothing"), "included_resources": ("cm",)},
            {"namespaces -/shop", "configmaps shop/db"},
        ),
        (
            {"included_namespaces": ("t*",), "excluded_resources": ("secrets",)},
            {"namespaces -/tools", "configmaps tools/ci"},
        ),
        (
            # The volume is not restored: the claim loses its volume name and is provisioned.
            {"included_resources": ("pods", "pvc"), "included_namespaces": ("shop",)},
            {"namespaces -/shop", "pods shop/web", "persistentvolumeclaims shop/data"},
        ),
        (
            {"included_resources": ("pods",), "include_cluster_resources": False},
            # Additional items still obey the resource filter: the claim is not included.
            {"namespaces -/shop", "pods shop/web"},
        ),
    ],
)
def test_filters_and_selectors(
    source: client.Client,
    target: client.Client,
    repo: repo_mod.Repository,
    fields: dict[str, Any],
    expected: set[str],
) -> None:
    populate(source)
    h.backup_from(source, repo, "b1", RESOURCES, ["shop", "tools"])

    out, _ = h.run_restore(target, repo, **fields)

    assert out.phase == "Completed", out.errors
    assert restored(target) == expected
    if "namespaces -/shop" in expected:
        shop = target.get("namespaces", "shop")["metadata"]
        assert shop["labels"]["team"] == "a" and shop["annotations"]["owner"] == "ops"
    if "persistentvolumeclaims shop/data" in expected:
        claim = target.get("persistentvolumeclaims", "data", "shop")
        bound = "persistentvolumes -/pv-web" in expected
        # without its volume the claim is left to the target cluster's provisioner
        volume = claim["spec"].get("volumeName")
        assert volume == "pv-web" if bound else volume is None or volume.startswith("pvc-")
