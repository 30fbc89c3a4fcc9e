"""Velero 1.11's scoped resource filters against the sandbox: what is listed, what related
items come along, and how both differ from the old filters."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.kube import client
from tests.engine.backup.conftest import Collected, collect, configmap, namespace
from tests.engine.backup.test_related import PC, PV, PVC, pod, pv, pvc

SC = "storageclasses.storage.k8s.io"
CLUSTER_SCOPED = (SC, PV, PC)


@pytest.fixture
def cluster(kube: client.Client) -> client.Client:
    """Namespaces shop and blog; in shop a pod mounting a claim bound to pv-data, with
    PriorityClass high; unrelated: pv-unused, PriorityClass low, StorageClass fast (and the
    cluster's default class, local-path)."""
    for ns in ("shop", "blog"):
        kube.create("namespaces", namespace(ns))
    kube.create("configmaps", configmap("web", "shop"))
    kube.create("configmaps", configmap("post", "blog"))
    kube.create("secrets", {"metadata": {"name": "creds", "namespace": "shop"}})
    for name in ("pv-data", "pv-unused"):
        kube.create(PV, pv(name))
    kube.create(PVC, pvc("data", "shop", "pv-data"))
    for name in ("high", "low"):
        kube.create(PC, {"metadata": {"name": name}, "value": 10})
    kube.create(SC, {"metadata": {"name": "fast"}, "provisioner": "example.com/disk"})
    kube.create("pods", pod("web", "shop", ["data"], priority="high"))
    return kube


def cluster_items(got: Collected) -> dict[str, set[str]]:
    """The cluster-scoped items taken, but the sandbox's own ``system-*`` PriorityClasses."""
    found = {gr: {n for n in got.names(gr) if not n.startswith("system-")} for gr in CLUSTER_SCOPED}
    return {gr: names for gr, names in found.items() if names}


EVERYTHING = {SC: {"fast", "local-path"}, PV: {"pv-data", "pv-unused"}, PC: {"high", "low"}}
RELATED = {PV: {"pv-data"}, PC: {"high"}}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # Cluster-scoped resources named in the include list, with a namespace filter.
        (
            {"included_namespaces": ("shop",), "included_cluster_scoped_resources": ("sc",)},
            {SC: {"fast", "local-path"}, **RELATED},
        ),
        (
            {"included_namespaces": ("shop",), "included_cluster_scoped_resources": ("*",)},
            EVERYTHING,
        ),
        # No cluster-scoped list: only a full-cluster backup lists them (and then all of them);
        # a namespace filter, or any namespace-scoped filter but '*', leaves only related ones.
        ({"included_namespace_scoped_resources": ("*",)}, EVERYTHING),
        (
            {"included_namespaces": ("shop",), "included_namespace_scoped_resources": ("*",)},
            RELATED,
        ),
        ({"excluded_namespace_scoped_resources": ("secrets",)}, RELATED),
        # An exclude list alone lists no other cluster-scoped resource (Velero's rule).
        ({"excluded_cluster_scoped_resources": ("sc",)}, RELATED),
        # Excluded cluster-scoped resources are dropped as related items too.
        (
            {"included_namespaces": ("shop",), "excluded_cluster_scoped_resources": ("pv",)},
            {PC: {"high"}},
        ),
        ({"excluded_cluster_scoped_resources": ("*",)}, {}),
    ],
)
def test_what_is_listed_and_what_comes_along(
    cluster: client.Client, fields: dict[str, Any], expected: dict[str, set[str]]
) -> None:
    got = collect(cluster, **fields)
    assert cluster_items(got) == expected
    assert got.names(PVC) == {"shop/data"}
    assert got.results.warning_count == 0 and got.results.error_count == 0


def test_the_old_filters_differ_where_velero_says_so(cluster: client.Client) -> None:
    # The old exclude list keeps a full-cluster backup whole; the scoped one does not.
    old = collect(cluster, excluded_resources=("secrets",))
    assert cluster_items(old) == EVERYTHING
    new = collect(cluster, excluded_namespace_scoped_resources=("secrets",))
    assert cluster_items(new) == RELATED
    assert not old.names("secrets") and not new.names("secrets")


def test_namespace_scoped_includes_narrow_items_and_related_ones(cluster: client.Client) -> None:
    got = collect(
        cluster, included_namespaces=("shop",), included_namespace_scoped_resources=("pods",)
    )
    assert got.resources == {"pods", PC, "namespaces"}
    # The claim is namespaced and not included: dropped, and its volume never reached. The
    # PriorityClass is cluster-scoped and not excluded: it comes along.
    assert got.names(PC) == {"high"} and not got.names(PVC) and not got.names(PV)
    nothing = collect(cluster, excluded_namespace_scoped_resources=("*",))
    assert not {i.group_resource for i in nothing.items if i.namespace}
    assert cluster_items(nothing) == {}


def test_namespaces_are_kept_unless_excluded(cluster: client.Client) -> None:
    only_sc = collect(
        cluster, included_namespaces=("shop",), included_cluster_scoped_resources=("sc",)
    )
    assert only_sc.names("namespaces") == {"shop"}
    for excluded in (("namespaces",), ("*",)):
        got = collect(
            cluster, included_namespaces=("shop",), excluded_cluster_scoped_resources=excluded
        )
        assert not got.names("namespaces") and "shop/web" in got.names("configmaps")


def test_entries_of_the_other_scope_or_unknown_are_ignored_with_a_warning(
    cluster: client.Client,
) -> None:
    got = collect(
        cluster,
        included_cluster_scoped_resources=("pods", "nosuchthings"),
        excluded_namespace_scoped_resources=("pv",),
    )
    assert got.results.warnings.strongroom == [
        "resource 'pods' is namespace-scoped; ignored in the cluster-scoped filter",
        "resource 'nosuchthings' is not served by the API server; ignored",
        "resource 'pv' is cluster-scoped; ignored in the namespace-scoped filter",
    ]
    # The include list still counts as given: it does not widen to every cluster-scoped
    # resource (as Velero's silent drop of 'pods' would), and names none of them.
    assert cluster_items(got) == RELATED
    assert got.names("pods") == {"shop/web"} and got.names(PVC) == {"shop/data"}
