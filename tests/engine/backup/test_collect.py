"""What a backup collects from the sandbox: namespaces, resources, selectors, scopes, skips."""

from __future__ import annotations

import json

import pytest

from strongroom.engine.backup import filters
from strongroom.kube import client
from tests.engine.backup.conftest import collect, configmap, namespace

ALL_NAMESPACES = {"default", "kube-node-lease", "kube-public", "kube-system"}


@pytest.fixture
def shop(kube: client.Client) -> client.Client:
    """Namespaces shop, shop-dev and blog with labelled config maps, a Secret, a StorageClass."""
    for ns in ("shop", "shop-dev", "blog"):
        kube.create("namespaces", namespace(ns))
    kube.create("configmaps", configmap("web", "shop", app="web"))
    kube.create("configmaps", configmap("db", "shop", app="db", tier="db"))
    kube.create("configmaps", configmap("both", "shop", app="web", tier="db"))
    kube.create("configmaps", configmap("web", "shop-dev", app="web"))
    kube.create("configmaps", configmap("post", "blog", app="blog"))
    kube.create(
        "secrets",
        {"metadata": {"name": "creds", "namespace": "shop"}, "stringData": {"password": "hunter2"}},
    )
    kube.create(
        "storageclasses",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "fast"},
            "provisioner": "example.com/disk",
        },
    )
    return kube


def test_full_cluster_backup(shop: client.Client) -> None:
    got = collect(shop)
    assert got.namespaces() == ALL_NAMESPACES | {"shop", "shop-dev", "blog"}
    assert {"shop/web", "shop/db", "shop/both", "shop-dev/web", "blog/post"} <= got.names(
        "configmaps"
    )
    assert got.names("storageclasses.storage.k8s.io") == {"fast", "local-path"}
    assert got.names("namespaces") == ALL_NAMESPACES | {"shop", "shop-dev", "blog"}
    assert got.names("services") == {"default/kubernetes"}
    secrets = [i for i in got.items if i.secret]
    assert [(i.group_resource, i.namespace, i.name) for i in secrets] == [
        ("secrets", "shop", "creds")
    ]
    web = next(
        i
        for i in got.items
        if (i.group_resource, i.namespace, i.name) == ("configmaps", "shop", "web")
    )
    assert b" " not in web.body and b"\n" not in web.body  # compact JSON
    assert json.loads(web.body) == shop.get("configmaps", "web", "shop")
    assert (got.results.warning_count, got.results.error_count) == (0, 0)
    assert got.collector.failure is None and got.collector.count == len(got.items)


@pytest.mark.parametrize(
    ("included", "excluded", "expected"),
    [
        (("shop",), (), {"shop"}),
        (("shop*",), (), {"shop", "shop-dev"}),
        (("shop*",), ("*-dev",), {"shop"}),
        (("s?op", "[b]log"), (), {"shop", "blog"}),
        (("*",), ("blog", "kube-*"), {"default", "shop", "shop-dev"}),
        ((), ("shop*",), ALL_NAMESPACES | {"blog"}),
        (("nosuch",), (), set()),
    ],
)
def test_namespace_patterns(
    shop: client.Client, included: tuple[str, ...], excluded: tuple[str, ...], expected: set[str]
) -> None:
    got = collect(shop, included_namespaces=included, excluded_namespaces=excluded)
    assert got.namespaces() == expected
    assert got.namespaces("secrets") == expected & {"shop"}
    assert got.names("namespaces") == expected
    assert got.results.error_count == 0  # a namespace that does not exist lists empty


def test_concrete_namespaces_are_listed_one_by_one(shop: client.Client) -> None:
    got = collect(shop, included_namespaces=("shop*",), included_resources=("configmaps",))
    lists = [m for m in got.messages() if m.startswith("collecting")]
    assert lists == ["collecting 1 resources with 2 lists"]
    everywhere = collect(shop, included_resources=("configmaps",))
    lists = [m for m in everywhere.messages() if m.startswith("collecting")]
    assert lists == ["collecting 1 resources with 1 lists"]


@pytest.mark.parametrize(
    ("included", "excluded", "include_cluster", "cluster_scoped"),
    [
        ((), (), None, True),  # auto, every namespace: a full-cluster backup
        (("shop",), (), None, False),  # auto with a namespace filter
        ((), ("blog",), None, False),  # excluding a namespace is a filter too
        (("shop",), (), True, True),
        ((), (), False, False),
    ],
)
def test_cluster_scoped_rule(
    shop: client.Client,
    included: tuple[str, ...],
    excluded: tuple[str, ...],
    include_cluster: bool | None,
    cluster_scoped: bool,
) -> None:
    got = collect(
        shop,
        included_namespaces=included,
        excluded_namespaces=excluded,
        include_cluster_resources=include_cluster,
    )
    assert bool(got.names("storageclasses.storage.k8s.io")) is cluster_scoped
    # Namespaces are exempt: their objects follow the namespace filter in every mode.
    assert "shop" in got.names("namespaces")
    assert ("blog" in got.names("namespaces")) is (not included and not excluded)


def test_namespaces_kept_when_cluster_resources_are_refused(shop: client.Client) -> None:
    got = collect(shop, include_cluster_resources=False)
    assert got.names("namespaces") >= {"shop", "shop-dev", "blog"}
    assert not got.names("storageclasses.storage.k8s.io")


@pytest.mark.parametrize(
    ("included", "excluded", "expected"),
    [
        (("cm",), (), {"configmaps"}),
        (("configmap", "Secret"), (), {"configmaps", "secrets"}),
        (("configmaps", "secrets.v1"), (), {"configmaps"}),
        (("sc",), (), {"storageclasses.storage.k8s.io"}),
        (
            ("storageclasses.storage.k8s.io", "namespaces"),
            (),
            {"storageclasses.storage.k8s.io", "namespaces"},
        ),
    ],
)
def test_resource_includes(
    shop: client.Client, included: tuple[str, ...], excluded: tuple[str, ...], expected: set[str]
) -> None:
    got = collect(shop, included_resources=included, excluded_resources=excluded)
    assert got.resources == expected


def test_resource_excludes_and_unknown_names(shop: client.Client) -> None:
    got = collect(shop, excluded_resources=("secrets", "sc", "serviceaccounts", "nosuchthings"))
    assert {"configmaps", "namespaces", "services"} <= got.resources
    assert not got.resources & {"secrets", "storageclasses.storage.k8s.io", "serviceaccounts"}
    assert got.results.warnings.strongroom == [
        "resource 'nosuchthings' is not served by the API server; ignored"
    ]


def test_label_selector(shop: client.Client) -> None:
    shop.create("namespaces", namespace("labelled", app="web"))
    got = collect(shop, label_selector="app=web")
    assert got.names("configmaps") == {"shop/web", "shop/both", "shop-dev/web"}
    assert not got.names("secrets") and not got.names("storageclasses.storage.k8s.io")
    # nsTracker: namespaces holding an item taken, or matching the selector themselves.
    assert got.names("namespaces") == {"shop", "shop-dev", "labelled"}


def test_label_selector_keeps_literally_included_namespaces(shop: client.Client) -> None:
    got = collect(shop, label_selector="app=web", included_namespaces=("shop", "blog"))
    assert got.names("configmaps") == {"shop/web", "shop/both"}
    assert got.names("namespaces") == {"shop", "blog"}


def test_or_label_selectors_union_without_duplicates(shop: client.Client) -> None:
    got = collect(shop, or_label_selectors=("app=web", "tier=db"), included_namespaces=("shop*",))
    assert got.names("configmaps") == {"shop/web", "shop/both", "shop/db", "shop-dev/web"}
    set_based = collect(shop, label_selector="app in (blog,db),!tier")
    assert set_based.names("configmaps") == {"blog/post"}


def test_exclude_label_on_items_and_namespaces(shop: client.Client) -> None:
    shop.create("configmaps", configmap("skip", "shop", **{filters.EXCLUDE_LABEL: "true"}))
    shop.create("configmaps", configmap("keep", "shop", **{filters.EXCLUDE_LABEL: "false"}))
    shop.create("namespaces", namespace("private", **{filters.EXCLUDE_LABEL: "true"}))
    shop.create("configmaps", configmap("hidden", "private"))
    got = collect(shop)
    assert "shop/skip" not in got.names("configmaps") and "shop/keep" in got.names("configmaps")
    assert "private" not in got.namespaces() and "private" not in got.names("namespaces")
    # Labelling a namespace out does not turn a full-cluster backup into a partial one.
    assert got.names("storageclasses.storage.k8s.io") == {"fast", "local-path"}
    skipped = [m for m in got.messages() if "labelled" in m]
    assert (
        "configmaps shop/skip: labelled strongroom.io/exclude-from-backup=true; skipped" in skipped
    )


def test_terminating_objects_are_skipped(shop: client.Client) -> None:
    held = configmap("leaving", "shop")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    shop.create("configmaps", held)
    shop.delete("configmaps", "leaving", "shop")
    assert shop.get("configmaps", "leaving", "shop")["metadata"].get("deletionTimestamp")
    got = collect(shop, included_namespaces=("shop",))
    assert "shop/leaving" not in got.names("configmaps") and "shop/web" in got.names("configmaps")
    assert any("configmaps shop/leaving: being deleted" in m for m in got.messages())


def test_order_verbs_and_cohabiting_groups(kube: client.Client) -> None:
    ordered = filters.ordered(kube.discovery.resources())
    names = [r.group_resource for r in ordered]
    assert names[:3] == ["pods", "persistentvolumeclaims", "persistentvolumes"]
    assert "events" in names and "events.events.k8s.io" not in names
    assert not {"bindings", "componentstatuses", "tokenreviews.authentication.k8s.io"} & set(names)
    assert names.index("configmaps") < names.index("deployments.apps")
