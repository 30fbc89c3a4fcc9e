"""The planner: Velero's restore order, the selection rules and additional items (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.archive import layout, reader
from strongroom.engine.restore import bodystore, errors, ordering, planner, spec
from strongroom.engine.restore.actions import base, registry
from strongroom.kube import discovery

Obj = dict[str, Any]

SERVED = (
    discovery.APIResource("configmaps", "", "v1", "ConfigMap", True, short_names=("cm",)),
    discovery.APIResource("pods", "", "v1", "Pod", True, short_names=("po",)),
    discovery.APIResource("persistentvolumeclaims", "", "v1", "PersistentVolumeClaim", True),
    discovery.APIResource("persistentvolumes", "", "v1", "PersistentVolume", False),
    discovery.APIResource("namespaces", "", "v1", "Namespace", False, short_names=("ns",)),
    discovery.APIResource("secrets", "", "v1", "Secret", True),
    discovery.APIResource("nodes", "", "v1", "Node", False, short_names=("no",)),
    discovery.APIResource("deployments", "apps", "v1", "Deployment", True, short_names=("deploy",)),
    discovery.APIResource("storageclasses", "storage.k8s.io", "v1", "StorageClass", False),
)


def read_item(
    group_resource: str, namespace: str | None, name: str, **extra: Any
) -> reader.ReadItem:
    obj: Obj = {"apiVersion": "v1", "kind": "X", "metadata": {"name": name}, **extra}
    if namespace is not None:
        obj["metadata"]["namespace"] = namespace
    path = layout.item_path(group_resource, namespace, name)
    return reader.ReadItem(path, layout.parse_item_path(path), json.dumps(obj).encode())


def plan_of(items: Iterable[reader.ReadItem], **fields: Any) -> planner.Plan:
    restore = spec.RestoreSpec(name="r", backup_name="b", **fields)
    version = reader.ReadItem(layout.VERSION_PATH, None, b"1.1.0\n")
    return planner.plan([version, *items], restore, SERVED, registry.default())


def keys(plan: planner.Plan) -> list[tuple[str, str | None, str]]:
    return [(p.key.group_resource, p.key.namespace, p.key.name) for p in (*plan.crds, *plan.items)]


def test_velero_priorities_verbatim() -> None:
    assert ordering.HIGH[:3] == ("customresourcedefinitions", "namespaces", "storageclasses")
    assert "volumesnapshotclass.snapshot.storage.k8s.io" in ordering.HIGH
    assert ordering.HIGH[-4:] == (
        "replicasets.apps",
        "clusterclasses.cluster.x-k8s.io",
        "endpoints",
        "services",
    )
    assert len(ordering.HIGH) == 23 and len(ordering.LOW) == 5


@pytest.mark.parametrize(
    ("unordered", "expected"),
    [
        (
            ["services", "pods", "configmaps", "namespaces", "persistentvolumes"],
            ["namespaces", "persistentvolumes", "configmaps", "pods", "services"],
        ),
        (
            ["deployments.apps", "widgets.example.com", "clusters.cluster.x-k8s.io", "endpoints"],
            ["endpoints", "deployments.apps", "widgets.example.com", "clusters.cluster.x-k8s.io"],
        ),
        (
            [
                "rolebindings.rbac.authorization.k8s.io",
                "roles.rbac.authorization.k8s.io",
                "clusterroles.rbac.authorization.k8s.io",
                "clusterrolebindings.rbac.authorization.k8s.io",
                "serviceaccounts",
            ],
            [
                "clusterroles.rbac.authorization.k8s.io",
                "roles.rbac.authorization.k8s.io",
                "serviceaccounts",
                "clusterrolebindings.rbac.authorization.k8s.io",
                "rolebindings.rbac.authorization.k8s.io",
            ],
        ),
        (
            [
                "packageinstalls.packaging.carvel.dev",
                "apps.kappctrl.k14s.io",
                "storageclasses.storage.k8s.io",
                "priorityclasses.scheduling.k8s.io",
                "limitranges",
                "replicasets.apps",
                "secrets",
                "persistentvolumeclaims",
                "customresourcedefinitions.apiextensions.k8s.io",
            ],
            [
                "customresourcedefinitions.apiextensions.k8s.io",
                "storageclasses.storage.k8s.io",
                "persistentvolumeclaims",
                "secrets",
                "limitranges",
                "priorityclasses.scheduling.k8s.io",
                "replicasets.apps",
                "apps.kappctrl.k14s.io",
                "packageinstalls.packaging.carvel.dev",
            ],
        ),
    ],
)
def test_resource_order(unordered: list[str], expected: list[str]) -> None:
    assert ordering.ordered(set(unordered)) == expected


def test_plan_puts_crds_first_then_priorities_then_names() -> None:
    plan = plan_of(
        [
            read_item("widgets.example.com", "shop", "w"),
            read_item("configmaps", "shop", "b"),
            read_item("configmaps", "alpha", "z"),
            read_item(
                "customresourcedefinitions.apiextensions.k8s.io", None, "widgets.example.com"
            ),
            read_item("namespaces", None, "shop"),
            read_item("configmaps", "shop", "a"),
            read_item("deployments.apps", "shop", "d"),
        ]
    )
    assert [p.key.name for p in plan.crds] == ["widgets.example.com"]
    assert keys(plan)[1:] == [
        ("namespaces", None, "shop"),
        ("configmaps", "alpha", "z"),
        ("configmaps", "shop", "a"),
        ("configmaps", "shop", "b"),
        ("deployments.apps", "shop", "d"),
        ("widgets.example.com", "shop", "w"),
    ]
    assert plan.backup_namespaces == ("alpha", "shop")
    assert plan.total == 7


BACKUP = [
    read_item("namespaces", None, "shop", metadata={"name": "shop", "labels": {"app": "web"}}),
    read_item("namespaces", None, "tools"),
    read_item(
        "configmaps",
        "shop",
        "web",
        metadata={"name": "web", "namespace": "shop", "labels": {"app": "web"}},
    ),
    read_item(
        "configmaps",
        "shop",
        "db",
        metadata={"name": "db", "namespace": "shop", "labels": {"app": "db"}},
    ),
    read_item("configmaps", "tools", "ci"),
    read_item("configmaps", "web-1", "x"),
    read_item("secrets", "shop", "s"),
    read_item("storageclasses.storage.k8s.io", None, "fast"),
    read_item("nodes", None, "node-1"),
    read_item("events", "shop", "e1"),
    read_item("backups.strongroom.io", "strongroom", "nightly"),
]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {},
            {
                "ns/shop",
                "ns/tools",
                "shop/web",
                "shop/db",
                "tools/ci",
                "web-1/x",
                "shop/s",
                "sc/fast",
            },
        ),
        ({"included_namespaces": ("shop",)}, {"ns/shop", "shop/web", "shop/db", "shop/s"}),
        ({"included_namespaces": ("web-*", "t?ols")}, {"ns/tools", "tools/ci", "web-1/x"}),
        ({"excluded_namespaces": ("shop",)}, {"ns/tools", "tools/ci", "web-1/x"}),
        (
            {"included_namespaces": ("shop",), "include_cluster_resources": True},
            {"ns/shop", "shop/web", "shop/db", "shop/s", "sc/fast"},
        ),
        (
            {"include_cluster_resources": False},
            {"ns/shop", "ns/tools", "shop/web", "shop/db", "tools/ci", "web-1/x", "shop/s"},
        ),
        ({"included_resources": ("cm",)}, {"shop/web", "shop/db", "tools/ci", "web-1/x"}),
        (
            {
                "included_resources": ("configmaps", "secrets"),
                "excluded_namespaces": ("tools", "web-1"),
            },
            {"shop/web", "shop/db", "shop/s"},
        ),
        ({"excluded_resources": ("configmaps", "namespaces")}, {"shop/s", "sc/fast"}),
        ({"included_resources": ("StorageClass",)}, {"sc/fast"}),
        ({"label_selector": "app=web"}, {"ns/shop", "shop/web"}),
        ({"label_selector": "app"}, {"ns/shop", "shop/web", "shop/db"}),
        ({"or_label_selectors": ("app=db", "app=web")}, {"ns/shop", "shop/web", "shop/db"}),
        ({"label_selector": "app!=web", "included_namespaces": ("shop",)}, {"shop/db", "shop/s"}),
    ],
)
def test_selection(fields: dict[str, Any], expected: set[str]) -> None:
    short = {"namespaces": "ns", "storageclasses.storage.k8s.io": "sc"}
    found = {
        f"{short[p.key.group_resource]}/{p.key.name}"
        if p.key.namespace is None
        else f"{p.key.namespace}/{p.key.name}"
        for p in plan_of(BACKUP, **fields).items
    }
    assert found == expected


def test_nodes_events_and_own_resources_never_planned() -> None:
    planned = {p.key.group_resource for p in plan_of(BACKUP, include_cluster_resources=True).items}
    assert not planned & {"nodes", "events", "backups.strongroom.io"}


def test_explicitly_included_non_restorable_resource_is_refused() -> None:
    with pytest.raises(errors.NonRestorableError):
        plan_of(BACKUP, included_resources=("configmaps", "No"))


def test_namespace_mapping_sets_target_namespaces() -> None:
    plan = plan_of(BACKUP, included_namespaces=("shop",), namespace_mappings={"shop": "shop-2"})
    targets = {(p.key.namespace, p.target_namespace) for p in plan.items if p.key.namespace}
    assert targets == {("shop", "shop-2")}
    assert set(plan.namespace_objects) == {"shop", "tools"}


def pod_with_claim() -> list[reader.ReadItem]:
    return [
        read_item(
            "pods",
            "shop",
            "web",
            metadata={"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            spec={
                "priorityClassName": "high",
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}],
            },
        ),
        read_item("persistentvolumeclaims", "shop", "data", spec={"volumeName": "pv-1"}),
        read_item("persistentvolumes", None, "pv-1"),
        read_item("priorityclasses.scheduling.k8s.io", None, "high"),
        read_item("persistentvolumes", None, "pv-unrelated"),
        read_item(
            "widgets.example.com",
            "shop",
            "w",
            metadata={"name": "w", "namespace": "shop", "labels": {"app": "web"}},
        ),
        read_item("customresourcedefinitions.apiextensions.k8s.io", None, "widgets.example.com"),
        read_item("customresourcedefinitions.apiextensions.k8s.io", None, "gadgets.example.com"),
    ]


def test_additional_items_are_pulled_in_transitively() -> None:
    plan = plan_of(pod_with_claim(), label_selector="app=web", included_namespaces=("shop",))
    assert set(keys(plan)) == {
        ("customresourcedefinitions.apiextensions.k8s.io", None, "widgets.example.com"),
        ("persistentvolumes", None, "pv-1"),
        ("persistentvolumeclaims", "shop", "data"),
        ("priorityclasses.scheduling.k8s.io", None, "high"),
        ("pods", "shop", "web"),
        ("widgets.example.com", "shop", "w"),
    }
    pulled = {p.key.name for p in (*plan.crds, *plan.items) if p.pulled_in}
    assert pulled == {"widgets.example.com", "pv-1", "data", "high"}
    assert plan.is_planned(base.ItemKey("persistentvolumes", None, "pv-1"))
    assert not plan.is_planned(base.ItemKey("persistentvolumes", None, "pv-2"))


def test_additional_items_respect_exclusions() -> None:
    plan = plan_of(
        pod_with_claim(),
        label_selector="app=web",
        include_cluster_resources=False,
        excluded_resources=("persistentvolumeclaims",),
    )
    assert set(keys(plan)) == {("pods", "shop", "web"), ("widgets.example.com", "shop", "w")}


def test_skipped_items_pull_nothing_in() -> None:
    items = pod_with_claim()
    items[0] = read_item(
        "pods",
        "shop",
        "web",
        spec={"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]},
        status={"phase": "Succeeded"},
    )
    plan = plan_of(items, included_resources=("pods",))
    assert keys(plan) == [("pods", "shop", "web")]


def test_entries_that_are_not_json_objects_are_problems() -> None:
    path = layout.item_path("configmaps", "shop", "bad")
    bad = reader.ReadItem(path, layout.parse_item_path(path), b"[1, 2]")
    plan = plan_of([bad, read_item("configmaps", "shop", "good")])
    assert keys(plan) == [("configmaps", "shop", "good")]
    assert [p.key.name for p in plan.problems] == ["bad"]


GROUP_RESOURCES = [
    "namespaces",
    "configmaps",
    "pods",
    "services",
    "persistentvolumes",
    "storageclasses.storage.k8s.io",
    "deployments.apps",
    "widgets.example.com",
    "customresourcedefinitions.apiextensions.k8s.io",
    "clusters.cluster.x-k8s.io",
    "nodes",
    "events",
    "backups.strongroom.io",
]
CLUSTER_SCOPED = {
    "namespaces",
    "persistentvolumes",
    "storageclasses.storage.k8s.io",
    "customresourcedefinitions.apiextensions.k8s.io",
    "nodes",
}
ITEMS = st.lists(
    st.tuples(
        st.sampled_from(GROUP_RESOURCES),
        st.sampled_from(["a", "b", "shop"]),
        st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True),
    ),
    max_size=25,
    unique_by=lambda t: (t[0], None if t[0] in CLUSTER_SCOPED else t[1], t[2]),
)


@given(ITEMS, st.sampled_from([(), ("a",), ("shop", "b")]))
def test_plan_invariants(raw: list[tuple[str, str, str]], included: tuple[str, ...]) -> None:
    backup = {(gr, None if gr in CLUSTER_SCOPED else ns, name) for gr, ns, name in raw}
    plan = plan_of(
        [read_item(gr, ns, name) for gr, ns, name in sorted(backup, key=str)],
        included_namespaces=included,
        namespace_mappings={"a": "a-2"},
    )
    found = keys(plan)
    assert len(found) == len(set(found))
    assert set(found) <= backup
    ranks = [ordering.sort_key(gr) for gr, _, _ in found[len(plan.crds) :]]
    assert ranks == sorted(ranks)
    assert all(gr == ordering.CRDS for gr, _, _ in found[: len(plan.crds)])
    assert not any(gr in ("nodes", "events", "backups.strongroom.io") for gr, _, _ in found)
    for item in plan.items:
        if item.key.namespace is not None:
            assert item.target_namespace == {"a": "a-2"}.get(item.key.namespace, item.key.namespace)
            assert not included or item.key.namespace in included
    if not included:
        restorable = {k for k in backup if k[0] not in ("nodes", "events", "backups.strongroom.io")}
        assert set(found) == restorable


@given(ITEMS, st.randoms())
def test_the_planning_pass_stores_the_selected_bodies_and_fill_the_pulled_in_ones(
    raw: list[tuple[str, str, str]], rnd: Any
) -> None:
    backup = {(gr, None if gr in CLUSTER_SCOPED else ns, name) for gr, ns, name in raw}
    found = [
        read_item(gr, ns, name, metadata={"name": name, "labels": WEB}, data={"x": name})
        for gr, ns, name in sorted(backup, key=str)
    ]
    pod = read_item(
        "pods", "shop", "zz-web", metadata={"name": "zz-web", "labels": WEB}, spec=CLAIM
    )
    found += [pod, read_item("persistentvolumeclaims", "shop", "zz-data")]
    rnd.shuffle(found)  # the archive's order is not the restore's
    restore = spec.RestoreSpec(name="r", backup_name="b", label_selector="app=web")
    with bodystore.BodyStore() as bodies:
        plan = planner.plan(found, restore, SERVED, registry.default(), bodies=bodies)
        selected = [p.row for p in plan.items if not p.pulled_in]
        assert all(row in bodies for row in selected)
        assert planner.missing(plan, bodies)  # the claim was only pulled in

        planner.fill(plan, found, bodies)

        assert not planner.missing(plan, bodies)
        by_key = {planner.item_key(i.item): i.body for i in found if i.item is not None}
        assert all(bodies.get(p.row) == by_key[p.key] for p in plan.items)
        assert len(list(plan.rows())) == plan.total


WEB = {"app": "web"}
CLAIM = {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "zz-data"}}]}


def test_names_out_of_order_and_namespaces_merged_by_a_mapping_still_plan_in_order() -> None:
    found = [read_item("configmaps", "a", name) for name in ("b", "a", "d", "c")] + [
        read_item("configmaps", "b", name) for name in ("bb", "aa", "e")
    ]
    plan = plan_of(found, namespace_mappings={"a": "b"})  # b keeps its own items too
    assert [p.key.name for p in plan.items] == ["a", "aa", "b", "bb", "c", "d", "e"]
    assert {p.target_namespace for p in plan.items} == {"b"}
    assert plan.is_planned(base.ItemKey("configmaps", "b", "aa"))
