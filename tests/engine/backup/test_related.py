"""Related items pulled in as Velero's item actions add them, and dropped by the filters."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.kube import client
from tests.engine.backup.conftest import collect, configmap, namespace
from tests.kube.conftest import crd

PV = "persistentvolumes"
PVC = "persistentvolumeclaims"
PC = "priorityclasses.scheduling.k8s.io"
CRB = "clusterrolebindings.rbac.authorization.k8s.io"
CR = "clusterroles.rbac.authorization.k8s.io"
RB = "rolebindings.rbac.authorization.k8s.io"
ROLE = "roles.rbac.authorization.k8s.io"
CRDS = "customresourcedefinitions.apiextensions.k8s.io"


def pv(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": f"/data/{name}"},
        },
    }


def pvc(name: str, ns: str, volume: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "volumeName": volume,
        },
    }


def pod(name: str, ns: str, claims: list[str], priority: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": "main", "image": "example.com/app:1"}],
        "volumes": [
            {"name": f"v{i}", "persistentVolumeClaim": {"claimName": c}}
            for i, c in enumerate(claims)
        ]
        + [{"name": "cfg", "configMap": {"name": "settings"}}],
    }
    if priority:
        spec["priorityClassName"] = priority
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def rbac(kind: str, name: str, ns: str | None = None, **body: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, **body}


def binding(
    kind: str, name: str, role_kind: str, role: str, ns: str | None, subject_ns: str
) -> dict[str, Any]:
    return rbac(
        kind,
        name,
        ns,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        subjects=[{"kind": "ServiceAccount", "name": "runner", "namespace": subject_ns}],
    )


@pytest.fixture
def app(kube: client.Client) -> client.Client:
    """Namespace app: a pod mounting a claim bound to a PV, with a PriorityClass; other
    cluster-scoped objects no item refers to."""
    kube.create("namespaces", namespace("app"))
    kube.create("namespaces", namespace("elsewhere"))
    for name in ("pv-data", "pv-unused"):
        kube.create(PV, pv(name))
    kube.create(PVC, pvc("data", "app", "pv-data"))
    kube.create(PVC, pvc("spare", "elsewhere", "pv-unused"))
    for name in ("high", "low"):
        kube.create(
            PC,
            {
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": name},
                "value": 10,
            },
        )
    kube.create("pods", pod("web", "app", ["data"], priority="high"))
    return kube


def test_pod_brings_its_claims_volumes_and_priority_class(app: client.Client) -> None:
    got = collect(app, included_namespaces=("app",))
    assert got.names(PVC) == {"app/data"}
    assert got.names(PV) == {"pv-data"}  # the unrelated PV stays out (auto mode)
    assert got.names(PC) == {"high"}
    log = got.log.render().decode()
    assert 'msg="persistentvolumes pv-data: taken as a related item"' in log
    assert 'msg="priorityclasses.scheduling.k8s.io high: taken as a related item"' in log
    # Velero's item blocks: an item, then what it brings. Pods and claims are listed at once,
    # so the claim may come through its own list first: then it is not taken twice.
    order = [(i.group_resource, i.name) for i in got.items]
    assert order[order.index((PVC, "data")) + 1] == (PV, "pv-data")
    after_pod = order[order.index(("pods", "web")) + 1 :]
    assert after_pod[:3] == [(PVC, "data"), (PV, "pv-data"), (PC, "high")] or (
        after_pod[0] == (PC, "high") and order.index((PVC, "data")) < order.index(("pods", "web"))
    )


def test_claim_alone_brings_its_volume(app: client.Client) -> None:
    got = collect(app, included_namespaces=("elsewhere",))
    assert got.names(PVC) == {"elsewhere/spare"} and got.names(PV) == {"pv-unused"}


def test_related_items_obey_the_filters(app: client.Client) -> None:
    refused = collect(app, included_namespaces=("app",), include_cluster_resources=False)
    assert got_none(refused, PV, PC) and refused.names(PVC) == {"app/data"}
    pods_only = collect(app, included_namespaces=("app",), included_resources=("pods",))
    # The claim is namespaced and its resource not included: dropped, so is its volume.
    assert pods_only.names("pods") == {"app/web"} and got_none(pods_only, PVC, PV)
    assert pods_only.names(PC) == {"high"}
    excluded = collect(app, included_namespaces=("app",), excluded_resources=("pv",))
    assert got_none(excluded, PV) and excluded.names(PC) == {"high"}


def got_none(got: Any, *group_resources: str) -> bool:
    return not any(got.names(gr) for gr in group_resources)


def test_missing_related_item_is_a_warning(app: client.Client) -> None:
    app.create("pods", pod("orphan", "app", ["gone"]))
    got = collect(app, included_namespaces=("app",))
    assert got.results.warnings.namespaces == {
        "app": ["persistentvolumeclaims app/gone: referenced but not found"]
    }
    assert got.results.error_count == 0 and "app/orphan" in got.names("pods")


def test_service_account_brings_its_rbac(kube: client.Client) -> None:
    kube.create("namespaces", namespace("ci"))
    kube.create("serviceaccounts", {"metadata": {"name": "runner", "namespace": "ci"}})
    kube.create(CR, rbac("ClusterRole", "runner-cluster", rules=[]))
    kube.create(CR, rbac("ClusterRole", "runner-shared", rules=[]))
    kube.create(CR, rbac("ClusterRole", "unrelated", rules=[]))
    kube.create(
        CRB,
        binding("ClusterRoleBinding", "runner-crb", "ClusterRole", "runner-cluster", None, "ci"),
    )
    kube.create(
        CRB, binding("ClusterRoleBinding", "other-crb", "ClusterRole", "unrelated", None, "other")
    )
    kube.create(ROLE, rbac("Role", "runner-role", "ci", rules=[]))
    kube.create(RB, binding("RoleBinding", "runner-rb", "Role", "runner-role", "ci", "ci"))
    kube.create(
        RB, binding("RoleBinding", "runner-shared-rb", "ClusterRole", "runner-shared", "ci", "ci")
    )
    got = collect(
        kube,
        included_namespaces=("ci",),
        included_resources=("serviceaccounts", "rolebindings", "roles"),
    )
    assert got.names("serviceaccounts") == {"ci/default", "ci/runner"}
    assert got.names(CRB) == {"runner-crb"}
    assert got.names(CR) == {"runner-cluster", "runner-shared"}
    assert got.names(RB) == {"ci/runner-rb", "ci/runner-shared-rb"}
    assert got.names(ROLE) == {"ci/runner-role"}
    # Namespaced related items follow the resource filter like listed ones.
    sa_only = collect(kube, included_namespaces=("ci",), included_resources=("sa",))
    assert sa_only.names(CRB) == {"runner-crb"} and sa_only.names(CR) == {"runner-cluster"}
    assert got_none(sa_only, RB, ROLE)


def test_custom_objects_bring_their_definition_last(kube: client.Client) -> None:
    definition = crd()
    kube.create(CRDS, definition)
    kube.wait_for_condition(CRDS, "widgets.example.com", timeout=10)
    kube.discovery.refresh()
    kube.create("namespaces", namespace("shop"))
    kube.create(
        "widgets.example.com",
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w1", "namespace": "shop"},
        },
    )
    kube.create("configmaps", configmap("c", "shop"))
    got = collect(kube, included_namespaces=("shop",))
    order = [(i.group_resource, i.name) for i in got.items]
    assert ("widgets.example.com", "w1") in order
    assert order.index((CRDS, "widgets.example.com")) > order.index(("widgets.example.com", "w1"))
    assert got.names(CRDS) == {"widgets.example.com"}
    full = collect(kube)  # listed with the cluster-scoped resources: taken once
    assert full.names(CRDS) == {"widgets.example.com"}
    refused = collect(kube, included_namespaces=("shop",), excluded_resources=("crd",))
    assert got_none(refused, CRDS) and refused.names("widgets.example.com") == {"shop/w1"}


def test_volume_snapshots_are_never_listed(kube: client.Client) -> None:
    for plural, kind, scope in (
        ("volumesnapshots", "VolumeSnapshot", "Namespaced"),
        ("volumesnapshotcontents", "VolumeSnapshotContent", "Cluster"),
    ):
        definition = crd("snapshot.storage.k8s.io", plural, kind)
        definition["spec"]["scope"] = scope
        kube.create(CRDS, definition)
        kube.wait_for_condition(CRDS, f"{plural}.snapshot.storage.k8s.io", timeout=10)
    kube.discovery.refresh()
    kube.create(
        "volumesnapshots.snapshot.storage.k8s.io",
        {
            "apiVersion": "snapshot.storage.k8s.io/v1",
            "kind": "VolumeSnapshot",
            "metadata": {"name": "s", "namespace": "default"},
        },
    )
    kube.create(
        "volumesnapshotcontents.snapshot.storage.k8s.io",
        {
            "apiVersion": "snapshot.storage.k8s.io/v1",
            "kind": "VolumeSnapshotContent",
            "metadata": {"name": "sc"},
        },
    )
    got = collect(kube)
    assert not {g for g in got.resources if g.endswith("snapshot.storage.k8s.io")}
    assert got.names(CRDS) == {
        "volumesnapshots.snapshot.storage.k8s.io",
        "volumesnapshotcontents.snapshot.storage.k8s.io",
    }
