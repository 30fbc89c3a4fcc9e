"""Metadata stripping, namespace placement, restore labels and merge patches."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from strongroom.engine.restore import mergepatch, sanitize

LIVE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {
        "name": "c",
        "namespace": "shop",
        "generateName": "c-",
        "selfLink": "/api/v1/namespaces/shop/configmaps/c",
        "uid": "u",
        "resourceVersion": "7",
        "generation": 2,
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "deletionTimestamp": "2026-01-02T00:00:00Z",
        "deletionGracePeriodSeconds": 30,
        "ownerReferences": [{"kind": "X", "name": "x", "uid": "o"}],
        "managedFields": [{"manager": "kubectl"}],
        "labels": {"app": "web"},
        "annotations": {"note": "n"},
        "finalizers": ["example.com/keep"],
    },
    "data": {"k": "v"},
    "status": {"phase": "whatever"},
}


def test_strip_keeps_only_what_a_new_object_may_carry() -> None:
    before = copy.deepcopy(LIVE)
    stripped = sanitize.strip(LIVE)
    assert before == LIVE
    assert stripped == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "c",
            "namespace": "shop",
            "labels": {"app": "web"},
            "annotations": {"note": "n"},
            "finalizers": ["example.com/keep"],
        },
        "data": {"k": "v"},
    }


def test_restore_labels_are_added_and_shortened() -> None:
    labels = sanitize.restore_labels("b" * 70, "r1")
    assert labels["strongroom.io/restore-name"] == "r1"
    assert len(labels["strongroom.io/backup-name"]) == 63
    labelled = sanitize.with_labels(sanitize.strip(LIVE), labels)
    assert labelled["metadata"]["labels"] == {"app": "web", **labels}


def test_in_namespace_places_or_removes_the_namespace() -> None:
    assert sanitize.in_namespace(LIVE, "other")["metadata"]["namespace"] == "other"
    assert "namespace" not in sanitize.in_namespace(LIVE, None)["metadata"]
    assert LIVE["metadata"]["namespace"] == "shop"


JSON_LEAF = st.one_of(st.booleans(), st.integers(), st.text(max_size=5))
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)
OBJECTS = st.dictionaries(st.text(max_size=3), JSON, max_size=4)


@given(OBJECTS, OBJECTS)
def test_merge_patch_turns_original_into_modified(
    original: dict[str, Any], modified: dict[str, Any]
) -> None:
    patch = mergepatch.create(original, modified)
    assert mergepatch.apply(original, patch) == modified
    assert (patch == {}) == (original == modified)


def test_merge_patch_shape() -> None:
    patch = mergepatch.create(
        {"a": 1, "b": {"c": 1, "d": 2}, "l": [1, 2], "gone": True},
        {"a": 1, "b": {"c": 3, "d": 2}, "l": [2], "new": "x"},
    )
    assert patch == {"b": {"c": 3}, "l": [2], "gone": None, "new": "x"}


def test_strip_copies_deeply_and_labels_and_namespace_leave_their_argument_alone() -> None:
    before = copy.deepcopy(LIVE)
    stripped = sanitize.strip(LIVE)
    stripped["metadata"]["labels"]["app"] = "changed"
    stripped["metadata"]["finalizers"].append("more")
    stripped["data"]["k"] = "changed"
    placed = sanitize.in_namespace(LIVE, "elsewhere")
    labelled = sanitize.with_labels(placed, {"restore": "r"})
    assert before == LIVE, "actions may change every part of what strip returns"
    assert placed["metadata"]["labels"] == {"app": "web"}
    assert labelled["metadata"] == {**placed["metadata"], "labels": {"app": "web", "restore": "r"}}
    assert sanitize.with_labels({"kind": "X", "metadata": None}, {"a": "b"})["metadata"] == {
        "labels": {"a": "b"}
    }
