"""Discovery against the sandbox: preferred versions, no subresources, CRDs after refresh."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.kube import client, discovery, errors
from tests.kube.conftest import crd


def test_core_and_groups_at_preferred_versions(kube: client.Client) -> None:
    by_gr = {r.group_resource: r for r in kube.discovery.resources()}
    cm = by_gr["configmaps"]
    assert (cm.group, cm.version, cm.kind, cm.namespaced) == ("", "v1", "ConfigMap", True)
    assert cm.api_version == "v1" and "cm" in cm.short_names
    assert cm.supports("list", "create", "get", "delete", "watch")
    deploy = by_gr["deployments.apps"]
    assert (deploy.api_version, deploy.kind, deploy.namespaced) == ("apps/v1", "Deployment", True)
    assert by_gr["namespaces"].namespaced is False
    assert by_gr["horizontalpodautoscalers.autoscaling"].version == "v2"
    assert "customresourcedefinitions.apiextensions.k8s.io" in by_gr
    assert all("/" not in r.name for r in by_gr.values())
    assert len(by_gr) == len(kube.discovery.resources()), "one version per resource"
    assert kube.discovery.snapshot().failed_groups == ()


def test_paths() -> None:
    cm = discovery.APIResource("configmaps", "", "v1", "ConfigMap", True)
    ns = discovery.APIResource("namespaces", "", "v1", "Namespace", False)
    deploy = discovery.APIResource("deployments", "apps", "v1", "Deployment", True)
    assert cm.path() == "/api/v1/configmaps"
    assert cm.path("shop", "a b") == "/api/v1/namespaces/shop/configmaps/a%20b"
    assert ns.path("ignored", "shop") == "/api/v1/namespaces/shop"
    assert deploy.path("shop") == "/apis/apps/v1/namespaces/shop/deployments"
    assert deploy.group_resource == "deployments.apps"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("configmaps", "configmaps"),
        ("configmap", "configmaps"),
        ("cm", "configmaps"),
        ("ConfigMap", "configmaps"),
        ("deployments.apps", "deployments.apps"),
        ("deploy", "deployments.apps"),
        ("Deployment.apps", "deployments.apps"),
        ("events", "events"),
        ("events.events.k8s.io", "events.events.k8s.io"),
        ("crd", "customresourcedefinitions.apiextensions.k8s.io"),
    ],
)
def test_find(kube: client.Client, name: str, expected: str) -> None:
    assert kube.discovery.find(name).group_resource == expected


def test_unknown_resource(kube: client.Client) -> None:
    with pytest.raises(errors.UnknownResource, match="'gizmos'") as info:
        kube.discovery.find("gizmos")
    assert info.value.exit_code == 5


def test_crd_appears_after_refresh_and_goes_after_deletion(kube: client.Client) -> None:
    before = kube.discovery.resources()
    kube.create("customresourcedefinitions.apiextensions.k8s.io", crd())
    kube.wait_for_condition("crd", "widgets.example.com", timeout=10)
    assert kube.discovery.resources() == before, "the snapshot is stable until refresh()"
    with pytest.raises(errors.UnknownResource):
        kube.discovery.find("widgets.example.com")
    kube.discovery.refresh()
    widgets = kube.discovery.find("widgets.example.com")
    assert (widgets.kind, widgets.api_version, widgets.namespaced) == (
        "Widget",
        "example.com/v1",
        True,
    )
    assert kube.discovery.find("wi") == widgets
    kube.create(
        widgets,
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w1", "namespace": "default"},
            "spec": {"size": 3},
        },
    )
    assert kube.get(widgets, "w1", "default")["spec"] == {"size": 3}
    kube.delete("crd", "widgets.example.com")
    kube.discovery.refresh()
    with pytest.raises(errors.UnknownResource):
        kube.discovery.find("widgets.example.com")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
group_entries = st.fixed_dictionaries(
    {},
    optional={"name": json_values, "preferredVersion": json_values, "versions": json_values},
)
resource_entries = st.fixed_dictionaries(
    {"name": st.text(max_size=8)},
    optional={
        "kind": json_values,
        "namespaced": json_values,
        "verbs": json_values,
        "shortNames": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(doc=json_values | st.fixed_dictionaries({"groups": json_values | st.lists(group_entries)}))
def test_any_group_list_gives_well_formed_targets(doc: object) -> None:
    for group, version, path in discovery.group_targets(doc):
        assert group and version and path == f"/apis/{group}/{version}"


@settings(max_examples=300, deadline=None)
@given(
    doc=json_values | st.fixed_dictionaries({"resources": json_values | st.lists(resource_entries)})
)
def test_any_resource_list_gives_top_level_resources(doc: object) -> None:
    for res in discovery.resources_from("g", "v1", doc):
        assert "/" not in res.name and all(isinstance(v, str) for v in res.verbs)
