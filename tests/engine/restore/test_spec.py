"""RestoreSpec validation, the namespace-mapping parser and the Velero-shaped spec document."""

from __future__ import annotations

import hashlib
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom import errors as base_errors
from strongroom.engine.restore import errors, names, spec

LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("  ", {}),
        ("a:b", {"a": "b"}),
        ("a:b,c:d", {"a": "b", "c": "d"}),
        (" a : b , c:d ", None),  # spaces inside a pair are not a DNS label
        ("shop:shop-copy", {"shop": "shop-copy"}),
        ("a:a", {"a": "a"}),
        ("a:b,b:a", {"a": "b", "b": "a"}),
    ],
)
def test_parse_namespace_mappings(text: str, expected: dict[str, str] | None) -> None:
    if expected is None:
        with pytest.raises(errors.MappingError):
            spec.parse_namespace_mappings(text)
    else:
        assert spec.parse_namespace_mappings(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a", "expected source:target"),
        ("a:b:c", "expected source:target"),
        ("a:b,", "expected source:target"),
        (":b", "not a valid namespace name"),
        ("a:", "not a valid namespace name"),
        ("A:b", "not a valid namespace name"),
        ("a:b_c", "not a valid namespace name"),
        ("a:" + "x" * 64, "not a valid namespace name"),
        ("a:b,a:c", "mapped twice"),
        ("a:c,b:c", "both map to 'c'"),
    ],
)
def test_bad_namespace_mappings(text: str, fragment: str) -> None:
    with pytest.raises(errors.MappingError, match=fragment) as caught:
        spec.parse_namespace_mappings(text)
    assert isinstance(caught.value, base_errors.UsageError)
    assert caught.value.exit_code == base_errors.ExitCode.USAGE


@given(st.dictionaries(LABEL, LABEL, max_size=6))
def test_mappings_round_trip(mapping: dict[str, str]) -> None:
    if len(set(mapping.values())) != len(mapping):
        with pytest.raises(errors.MappingError):
            spec.parse_namespace_mappings(",".join(f"{k}:{v}" for k, v in mapping.items()))
        return
    text = ",".join(f"{k}:{v}" for k, v in mapping.items())
    assert spec.parse_namespace_mappings(text) == mapping


@given(st.text(alphabet=string.ascii_letters + string.digits + ":,-_ .", max_size=40))
def test_mapping_parser_accepts_or_refuses_cleanly(text: str) -> None:
    try:
        parsed = spec.parse_namespace_mappings(text)
    except errors.MappingError:
        return
    for source, target in parsed.items():
        assert names.is_dns_label(source) and names.is_dns_label(target)
    assert len(set(parsed.values())) == len(parsed)


def make(**fields: object) -> spec.RestoreSpec:
    return spec.RestoreSpec(**{"name": "r", "backup_name": "b", **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "error", "fragment"),
    [
        ({"name": ""}, errors.SpecError, "needs a name"),
        ({"backup_name": ""}, errors.SpecError, "no backup"),
        ({"existing_resource_policy": "replace"}, errors.SpecError, "expected 'none' or 'update'"),
        ({"label_selector": "a=b", "or_label_selectors": ("c=d",)}, errors.SpecError, "exclude"),
        ({"label_selector": "=b"}, errors.SelectorError, "label selector"),
        ({"label_selector": "a>3"}, errors.SelectorError, "not supported"),
        ({"or_label_selectors": ("ok=1", "bad key=1")}, errors.SelectorError, "label selector"),
        ({"namespace_mappings": {"a": "Bad"}}, errors.MappingError, "not a valid"),
        ({"namespace_mappings": {"a": "c", "b": "c"}}, errors.MappingError, "both map"),
        ({"included_namespaces": ("a",), "excluded_namespaces": ("a",)}, errors.SpecError, "both"),
        ({"excluded_namespaces": ("*",)}, errors.SpecError, "leaves nothing"),
        ({"included_namespaces": ("shop[",)}, errors.SpecError, "namespace pattern"),
        ({"excluded_namespaces": ("Shop",)}, errors.SpecError, "namespace pattern"),
    ],
)
def test_invalid_specs(fields: dict[str, object], error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=fragment) as caught:
        make(**fields)
    assert isinstance(caught.value, base_errors.UsageError)


@pytest.mark.parametrize(
    "resource",
    [
        "nodes",
        "node",
        "no",
        "Node",
        "events",
        "ev",
        "events.events.k8s.io",
        "csinodes.storage.k8s.io",
        "csinode",
        "volumeattachments.storage.k8s.io",
        "volumeattachments",
        "backups.strongroom.io",
        "restores.strongroom.io",
    ],
)
def test_non_restorable_resources_cannot_be_included(resource: str) -> None:
    with pytest.raises(errors.NonRestorableError, match="cannot be restored"):
        make(included_resources=("configmaps", resource))


def test_non_restorable_resources_may_be_excluded() -> None:
    assert make(excluded_resources=("nodes", "events")).excluded_resources == ("nodes", "events")


def test_spec_is_frozen_and_its_mapping_read_only() -> None:
    mapping = {"a": "b"}
    restore = make(namespace_mappings=mapping, included_namespaces=["a"])  # type: ignore[arg-type]
    mapping["c"] = "d"
    assert dict(restore.namespace_mappings) == {"a": "b"}
    assert restore.included_namespaces == ("a",)
    with pytest.raises(TypeError):
        restore.namespace_mappings["x"] = "y"  # type: ignore[index]
    with pytest.raises(AttributeError):
        restore.name = "other"  # type: ignore[misc]


def test_to_dict_uses_velero_field_names() -> None:
    restore = make(
        namespace_mappings={"shop": "shop-2"},
        included_namespaces=("shop", "web-*"),
        excluded_resources=("secrets",),
        label_selector="app=web,tier in (a,b),!legacy",
        include_cluster_resources=False,
        existing_resource_policy="update",
        preserve_node_ports=True,
    )
    assert restore.to_dict() == {
        "backupName": "b",
        "includedNamespaces": ["shop", "web-*"],
        "includedResources": ["*"],
        "excludedResources": ["secrets"],
        "namespaceMapping": {"shop": "shop-2"},
        "labelSelector": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
            ],
        },
        "includeClusterResources": False,
        "existingResourcePolicy": "update",
        "preserveNodePorts": True,
    }


def test_to_dict_or_selectors_and_defaults() -> None:
    doc = make(or_label_selectors=("a=1", "b notin (x)")).to_dict()
    assert doc["orLabelSelectors"] == [
        {"matchLabels": {"a": "1"}},
        {"matchExpressions": [{"key": "b", "operator": "NotIn", "values": ["x"]}]},
    ]
    assert "includeClusterResources" not in doc
    assert doc["existingResourcePolicy"] == "none"
    assert doc["includedNamespaces"] == ["*"]


@pytest.mark.parametrize("value", ["short", "x" * 63])
def test_label_values_that_fit_are_kept(value: str) -> None:
    assert names.valid_label_value(value) == value


@given(st.text(alphabet=string.ascii_lowercase + "-.", min_size=64, max_size=300))
def test_long_label_values_are_shortened_like_velero(value: str) -> None:
    shortened = names.valid_label_value(value)
    assert len(shortened) == 63
    assert shortened == value[:57] + hashlib.sha256(value.encode()).hexdigest()[:6]
