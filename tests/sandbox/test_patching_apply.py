"""Server-side apply, checked against the Kubernetes "Server-Side Apply" documentation."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.sandbox import patching


def config(replicas: int | None = 2, image: str = "nginx:1.25", **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]
            },
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": labels or {"app": "web"}},
        "spec": spec,
    }


def ssa(
    live: dict[str, Any] | None, applied: dict[str, Any], manager: str, force: bool = False
) -> dict[str, Any]:
    before = copy.deepcopy((live, applied))
    result = patching.server_side_apply(live, applied, manager, force, "apps", "Deployment")
    assert (live, applied) == before  # inputs are never mutated
    return result


def managers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in obj["metadata"]["managedFields"]}


def test_create_records_an_apply_entry_with_fields_v1() -> None:
    obj = ssa(None, config(), "alice")
    entry = managers(obj)["alice"]
    assert entry["operation"] == "Apply"
    assert entry["fieldsType"] == "FieldsV1"
    assert entry["apiVersion"] == "apps/v1"
    assert entry["time"].endswith("Z")
    fields = entry["fieldsV1"]
    assert fields["f:spec"]["f:replicas"] == {}
    assert fields["f:metadata"] == {"f:labels": {"f:app": {}}}  # name/namespace are identity
    containers = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    item = containers['k:{"name":"web"}']
    assert item["."] == {} and item["f:image"] == {}
    # container ports are keyed by containerPort and protocol, protocol defaulting to TCP
    assert 'k:{"containerPort":80,"protocol":"TCP"}' in item["f:ports"]
    assert obj["spec"]["replicas"] == 2


def test_reapplying_the_same_config_is_stable() -> None:
    first = ssa(None, config(), "alice")
    second = ssa(first, config(), "alice")
    strip = [
        {k: v for k, v in e.items() if k != "time"} for e in second["metadata"]["managedFields"]
    ]
    assert len(strip) == 1
    assert second["spec"] == first["spec"]


def test_another_manager_changing_an_owned_field_conflicts() -> None:
    # "a conflict is a special error status that occurs when an Apply operation tries to
    # change a field that another manager also claims to manage"
    live = ssa(None, config(replicas=2), "alice")
    with pytest.raises(patching.ApplyConflict) as info:
        ssa(live, config(replicas=5), "bob")
    assert info.value.managers == ("alice",)
    assert info.value.fields == (".spec.replicas",)
    assert 'conflict with "alice"' in str(info.value)
    assert isinstance(info.value, patching.PatchError)


def test_applying_the_same_value_shares_ownership_without_conflict() -> None:
    live = ssa(None, config(replicas=2), "alice")
    shared = ssa(live, config(replicas=2), "bob")
    owners = managers(shared)
    assert "f:replicas" in owners["alice"]["fieldsV1"]["f:spec"]
    assert "f:replicas" in owners["bob"]["fieldsV1"]["f:spec"]


def test_force_takes_ownership_of_conflicting_fields() -> None:
    live = ssa(None, config(replicas=2), "alice")
    forced = ssa(live, config(replicas=5), "bob", force=True)
    assert forced["spec"]["replicas"] == 5
    owners = managers(forced)
    assert "f:replicas" not in owners["alice"]["fieldsV1"]["f:spec"]
    assert "f:replicas" in owners["bob"]["fieldsV1"]["f:spec"]
    # alice keeps the fields bob set to the same value (shared)
    assert "f:selector" in owners["alice"]["fieldsV1"]["f:spec"]


def test_fields_a_manager_stops_applying_are_removed() -> None:
    live = ssa(None, config(replicas=2, app="web", tier="front"), "alice")
    after = ssa(live, config(replicas=None, app="web"), "alice")
    assert "replicas" not in after["spec"]
    assert after["metadata"]["labels"] == {"app": "web"}


def test_omitted_fields_stay_while_another_manager_owns_them() -> None:
    live = ssa(None, config(replicas=2), "alice")
    shared = ssa(live, config(replicas=2), "bob")
    after = ssa(shared, config(replicas=None), "alice")
    assert after["spec"]["replicas"] == 2


def test_keyed_list_items_merge_and_omitted_items_are_removed() -> None:
    live = ssa(None, config(), "alice")
    sidecar = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "log", "image": "busybox"}]}}},
    }
    both = ssa(live, sidecar, "bob")
    names = [c["name"] for c in both["spec"]["template"]["spec"]["containers"]]
    assert names == ["web", "log"]
    without = copy.deepcopy(sidecar)
    without["spec"]["template"]["spec"]["containers"] = [{"name": "web", "image": "nginx:1.25"}]
    dropped = ssa(both, without, "bob")
    names = [c["name"] for c in dropped["spec"]["template"]["spec"]["containers"]]
    assert names == ["web"]


def test_object_without_managed_fields_is_owned_by_before_first_apply() -> None:
    live = copy.deepcopy(config(replicas=1))
    with pytest.raises(patching.ApplyConflict) as info:
        ssa(live, config(replicas=3), "alice")
    assert info.value.managers == ("before-first-apply",)


def test_update_managed_fields_records_writers_and_moves_changed_fields() -> None:
    created = patching.update_managed_fields(None, config(), "kubectl-create", "apps", "Deployment")
    entry = managers(created)["kubectl-create"]
    assert entry["operation"] == "Update"
    assert "f:replicas" in entry["fieldsV1"]["f:spec"]
    applied = ssa(created, config(replicas=2), "alice")  # same value: shared, no conflict
    with pytest.raises(patching.ApplyConflict):
        ssa(applied, config(replicas=7), "bob")
    scaled = copy.deepcopy(applied)
    scaled["spec"]["replicas"] = 4
    updated = patching.update_managed_fields(applied, scaled, "hpa", "apps", "Deployment")
    owners = managers(updated)
    assert "f:replicas" in owners["hpa"]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in owners["alice"]["fieldsV1"]["f:spec"]


def test_custom_resource_lists_are_atomic() -> None:
    cr = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
          "spec": {"items": [{"name": "a"}, {"name": "b"}]}}  # fmt: skip
    live = patching.server_side_apply(None, cr, "alice", False, "example.com", "Widget")
    applied = copy.deepcopy(cr)
    applied["spec"]["items"] = [{"name": "c"}]
    after = patching.server_side_apply(live, applied, "alice", False, "example.com", "Widget")
    assert after["spec"]["items"] == [{"name": "c"}]
    assert managers(after)["alice"]["fieldsV1"]["f:spec"] == {"f:items": {}}


def test_finalizers_are_a_set_owned_per_value() -> None:
    one = config()
    one["metadata"]["finalizers"] = ["a.example/x"]
    two = copy.deepcopy(config())
    two["metadata"]["finalizers"] = ["b.example/y"]
    live = ssa(None, one, "alice")
    both = ssa(live, two, "bob")
    assert both["metadata"]["finalizers"] == ["a.example/x", "b.example/y"]
    fields = managers(both)["bob"]["fieldsV1"]["f:metadata"]["f:finalizers"]
    assert fields == {'v:"b.example/y"': {}}


def test_apply_requires_a_manager_and_an_object() -> None:
    with pytest.raises(patching.PatchError):
        patching.server_side_apply(None, config(), "", False, "apps", "Deployment")
    with pytest.raises(patching.PatchError):
        patching.server_side_apply(None, [], "m", False, "apps", "Deployment")  # type: ignore[arg-type]


label_sets = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["1", "2"]))


@given(first=label_sets, second=label_sets)
def test_reapplying_leaves_exactly_the_applied_labels(
    first: dict[str, str], second: dict[str, str]
) -> None:
    # One manager alone: the result holds exactly what it applied last, whatever came before.
    def labelled(labels: dict[str, str]) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "c", "labels": labels}, "data": {"k": "v"}}  # fmt: skip

    live = patching.server_side_apply(None, labelled(first), "m", False, "", "ConfigMap")
    again = patching.server_side_apply(live, labelled(second), "m", False, "", "ConfigMap")
    assert again["metadata"].get("labels", {}) == second
    assert again["data"] == {"k": "v"}
    twice = patching.server_side_apply(again, labelled(second), "m", False, "", "ConfigMap")
    assert twice["metadata"].get("labels", {}) == second


def test_kubectl_takes_over_last_applied_fields_from_client_side_apply() -> None:
    # The documented upgrade path: kubectl's server-side apply takes over without conflict the
    # fields recorded in the last-applied-configuration annotation; other managers conflict.
    old = config(replicas=2)
    live = patching.update_managed_fields(
        None, old, "kubectl-client-side-apply", "apps", "Deployment"
    )
    live["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(old)
    }
    taken = ssa(live, config(replicas=4), "kubectl")
    assert taken["spec"]["replicas"] == 4
    with pytest.raises(patching.ApplyConflict):
        ssa(live, config(replicas=4), "someone-else")
    unrecorded = copy.deepcopy(live)
    unrecorded["metadata"]["annotations"] = {}
    with pytest.raises(patching.ApplyConflict):
        ssa(unrecorded, config(replicas=4), "kubectl")
