"""Archive paths: Velero's layout, every Kubernetes name, nothing that escapes the tree."""

from __future__ import annotations

import dataclasses

import hypothesis
import pytest
from hypothesis import strategies as st

from strongroom.archive import errors, layout

# Any character of a Kubernetes path-segment name (everything but "/" and "%"), and more.
components = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/\0"),
    min_size=1,
    max_size=300,
).filter(lambda s: s not in (".", ".."))
namespaces = st.none() | components


@pytest.mark.parametrize(
    ("group_resource", "namespace", "name", "path"),
    [
        ("pods", "foo", "bar", "resources/pods/namespaces/foo/bar.json"),
        ("persistentvolumes", None, "bar", "resources/persistentvolumes/cluster/bar.json"),
        ("deployments.apps", "shop", "web", "resources/deployments.apps/namespaces/shop/web.json"),
        (
            "clusterroles.rbac.authorization.k8s.io",
            None,
            "system:controller:foo",
            "resources/clusterroles.rbac.authorization.k8s.io/cluster/system:controller:foo.json",
        ),
        (
            "users.example.com",
            "a",
            "me@example.com",
            "resources/users.example.com/namespaces/a/me@example.com.json",
        ),
        ("configmaps", "a", "x.json", "resources/configmaps/namespaces/a/x.json.json"),
        ("configmaps", "a", "...", "resources/configmaps/namespaces/a/....json"),
    ],
)
def test_velero_paths(group_resource: str, namespace: str | None, name: str, path: str) -> None:
    assert layout.item_path(group_resource, namespace, name) == path
    assert layout.parse_item_path(path) == layout.ItemPath(group_resource, namespace, name)


@hypothesis.given(components, namespaces, components)
def test_every_name_round_trips(group_resource: str, namespace: str | None, name: str) -> None:
    path = layout.item_path(group_resource, namespace, name)
    parsed = layout.parse_item_path(path)
    assert parsed == layout.ItemPath(group_resource, namespace, name)
    assert not path.startswith("/")
    assert ".." not in path.split("/")


@hypothesis.given(st.text(alphabet="resourcesnamespacesclusterjson./:a", max_size=80))
def test_parse_accepts_exactly_what_item_path_writes(path: str) -> None:
    parsed = layout.parse_item_path(path)
    if parsed is not None:
        assert layout.item_path(*dataclasses.astuple(parsed)) == path
        assert all(part not in ("", ".", "..") for part in path.split("/"))


@pytest.mark.parametrize(
    "path",
    [
        "",
        "metadata/version",
        "/resources/pods/cluster/a.json",
        "resources/pods/cluster/../a.json",
        "resources/../namespaces/a/b.json",
        "resources/pods/namespaces/../b.json",
        "resources/pods/namespaces/./b.json",
        "resources/pods/namespaces/a/..json" + "/x.json",
        "resources/pods/cluster/.json",
        "resources/pods/cluster/a",
        "resources/pods/cluster/a.yaml",
        "resources/pods/cluster//a.json",
        "resources//cluster/a.json",
        "resources/pods/namespaces//a.json",
        "resources/pods/namespaces/a/b/c.json",
        "resources/pods/v1-preferredversion/namespaces/a/b.json",
        "resources/pods/cluster/a.json/",
        "./resources/pods/cluster/a.json",
        "other/pods/cluster/a.json",
        "resources/pods/clusters/a.json",
        "resources/pods/cluster/a\0.json",
        "resources/pods/cluster/\udcff.json",
    ],
)
def test_parse_refuses(path: str) -> None:
    assert layout.parse_item_path(path) is None


@pytest.mark.parametrize(
    ("group_resource", "namespace", "name"),
    [
        ("pods", "a", ""),
        ("pods", "a", "."),
        ("pods", "a", ".."),
        ("pods", "a", "b/c"),
        ("pods", "..", "b"),
        ("pods", "", "b"),
        ("pods", "a/b", "c"),
        ("", None, "b"),
        ("../x", None, "b"),
        ("pods", None, "nul\0byte"),
        ("pods", None, "lone\udcffsurrogate"),
    ],
)
def test_item_path_refuses_unusable_names(
    group_resource: str, namespace: str | None, name: str
) -> None:
    with pytest.raises(errors.ItemNameError):
        layout.item_path(group_resource, namespace, name)


def test_version_body() -> None:
    assert layout.version_body() == b"1.1.0\n"
    assert layout.FORMAT_VERSION in layout.SUPPORTED_VERSIONS
