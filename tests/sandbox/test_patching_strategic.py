"""Strategic merge patch, checked against the behaviour documented by Kubernetes.

References: "Update API Objects in Place Using kubectl patch" (kubernetes.io tasks) and the
strategic-merge-patch design document (community/contributors/devel/sig-api-machinery).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.sandbox import patching


def deployment(**spec: Any) -> dict[str, Any]:
    pod_spec = {
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.25",
                "ports": [{"containerPort": 80}],
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            }
        ],
        "tolerations": [{"key": "a", "operator": "Exists"}],
    }
    pod_spec.update(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["x/a"]},
        "spec": {"replicas": 1, "template": {"spec": pod_spec}},
    }


def smp(obj: dict[str, Any], patch: dict[str, Any], kind: str = "Deployment") -> dict[str, Any]:
    group = {"Deployment": "apps", "Service": "", "Pod": ""}.get(kind, "")
    before = copy.deepcopy(obj)
    result = patching.apply_strategic_merge_patch(obj, patch, group, kind)
    assert obj == before
    return result


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def test_containers_merge_by_name_the_kubectl_patch_tutorial_case() -> None:
    # kubectl patch tutorial: patching containers adds a container, keeping the existing one.
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "redis", "image": "redis"}]}}}}
    result = smp(deployment(), patch)
    names = [c["name"] for c in pod_spec(result)["containers"]]
    assert names == ["web", "redis"]


def test_matching_container_is_merged_field_by_field() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}}
    container = pod_spec(smp(deployment(), patch))["containers"][0]
    assert container["image"] == "nginx:2"
    assert container["ports"] == [{"containerPort": 80}]


def test_tolerations_have_no_patch_strategy_and_are_replaced() -> None:
    # The tutorial's second case: PodSpec.tolerations has no patchStrategy, so it is replaced.
    patch = {"spec": {"template": {"spec": {"tolerations": [{"effect": "NoSchedule"}]}}}}
    assert pod_spec(smp(deployment(), patch))["tolerations"] == [{"effect": "NoSchedule"}]


def test_env_merges_by_name_and_null_deletes_a_field() -> None:
    patch = {
        "spec": {
            "replicas": None,
            "template": {
                "spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "3"}]}]}
            },
        }
    }
    result = smp(deployment(), patch)
    assert "replicas" not in result["spec"]
    env = pod_spec(result)["containers"][0]["env"]
    assert env == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]


def test_container_ports_merge_by_container_port() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}]}
    ]}}}}  # fmt: skip
    ports = pod_spec(smp(deployment(), patch))["containers"][0]["ports"]
    assert ports == [{"containerPort": 80, "name": "http"}, {"containerPort": 443}]


def test_service_ports_merge_by_port() -> None:
    service = {"kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}
    patch = {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 9090}]}}
    result = smp(service, patch, "Service")
    assert result["spec"]["ports"] == [
        {"port": 80, "targetPort": 8080, "name": "http"},
        {"port": 9090},
    ]


def test_delete_directive_removes_a_list_item_by_merge_key() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "env": [{"name": "A", "$patch": "delete"}]}
    ]}}}}  # fmt: skip
    env = pod_spec(smp(deployment(), patch))["containers"][0]["env"]
    assert env == [{"name": "B", "value": "2"}]


def test_replace_directive_in_a_list_replaces_the_whole_list() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "only", "image": "busybox"}, {"$patch": "replace"}
    ]}}}}  # fmt: skip
    assert pod_spec(smp(deployment(), patch))["containers"] == [
        {"name": "only", "image": "busybox"}
    ]


def test_replace_directive_in_a_map_replaces_the_map() -> None:
    patch = {"metadata": {"labels": {"$patch": "replace", "tier": "db"}}}
    assert smp(deployment(), patch)["metadata"]["labels"] == {"tier": "db"}


def test_delete_directive_in_a_map_empties_it() -> None:
    patch = {"metadata": {"labels": {"$patch": "delete"}}}
    assert smp(deployment(), patch)["metadata"]["labels"] == {}


def test_finalizers_merge_as_a_set_and_delete_from_primitive_list() -> None:
    # ObjectMeta.finalizers has patchStrategy "merge": a union of scalars.
    added = smp(deployment(), {"metadata": {"finalizers": ["x/b", "x/a"]}})
    assert added["metadata"]["finalizers"] == ["x/a", "x/b"]
    removed = smp(added, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["x/a"]}})
    assert removed["metadata"]["finalizers"] == ["x/b"]


def test_retain_keys_clears_fields_not_listed() -> None:
    # Deployment.spec.strategy has patchStrategy retainKeys: switching type drops rollingUpdate.
    obj = deployment()
    obj["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert smp(obj, patch)["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_must_list_every_patched_key() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}
    with pytest.raises(patching.PatchError, match="retainKeys"):
        smp(deployment(), patch)


def test_set_element_order_reorders_merged_items() -> None:
    obj = deployment()
    pod_spec(obj)["containers"].append({"name": "side", "image": "busybox"})
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "new"}, {"name": "side"}, {"name": "web"}],
        "containers": [{"name": "new", "image": "alpine"}],
    }}}}  # fmt: skip
    names = [c["name"] for c in pod_spec(smp(obj, patch))["containers"]]
    assert names == ["new", "side", "web"]


def test_conditions_merge_by_type() -> None:
    pod = {"kind": "Pod", "status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    patch = {"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "X"}]}}
    result = smp(pod, patch, "Pod")
    assert result["status"]["conditions"] == [{"type": "Ready", "status": "True"}, {"type": "X"}]


def test_volumes_and_volume_mounts_merge_by_name_and_mount_path() -> None:
    obj = deployment(volumes=[{"name": "data", "emptyDir": {}}])
    pod_spec(obj)["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/d"}]
    patch = {"spec": {"template": {"spec": {
        "volumes": [{"name": "cfg", "configMap": {"name": "c"}}],
        "containers": [{"name": "web", "volumeMounts": [{"name": "cfg", "mountPath": "/c"}]}],
    }}}}  # fmt: skip
    spec = pod_spec(smp(obj, patch))
    assert [v["name"] for v in spec["volumes"]] == ["data", "cfg"]
    assert [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]] == ["/d", "/c"]


def test_owner_references_merge_by_uid() -> None:
    obj = {"kind": "Pod", "metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]}}
    patch = {"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}]}}
    result = smp(obj, patch, "Pod")
    assert [o["uid"] for o in result["metadata"]["ownerReferences"]] == ["1", "2"]


def test_keyed_list_item_without_its_merge_key_is_an_error() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}
    with pytest.raises(patching.PatchError, match="merge key: name"):
        smp(deployment(), patch)


def test_unknown_patch_directive_is_an_error() -> None:
    with pytest.raises(patching.PatchError, match="directive"):
        smp(deployment(), {"metadata": {"$patch": "explode"}})


def test_custom_resources_do_not_support_strategic_patch_and_fall_back_to_merge() -> None:
    # The API server answers 415 to strategic patches of custom resources.
    assert patching.supports_strategic("apps", "Deployment")
    assert patching.supports_strategic("", "ConfigMap")
    assert not patching.supports_strategic("example.com", "Widget")
    assert not patching.supports_strategic("snapshot.storage.k8s.io", "VolumeSnapshot")
    obj = {"spec": {"items": [{"name": "a"}, {"name": "b"}]}}
    patch = {"spec": {"items": [{"name": "c"}]}}
    result = patching.apply_strategic_merge_patch(obj, patch, "example.com", "Widget")
    assert result == {"spec": {"items": [{"name": "c"}]}}


def test_new_fields_from_the_patch_are_cleaned_of_directives_and_nulls() -> None:
    patch = {"spec": {"selector": {"matchLabels": {"app": "web", "gone": None}}}}
    assert smp(deployment(), patch)["spec"]["selector"] == {"matchLabels": {"app": "web"}}


scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=4)
maps_only = st.recursive(
    scalars, lambda children: st.dictionaries(st.sampled_from("abcd"), children, max_size=3),
    max_leaves=10,
)  # fmt: skip
objects = st.dictionaries(st.sampled_from("abcd"), maps_only, max_size=4)


@given(obj=objects.map(lambda o: patching.apply_merge_patch({}, o)), patch=objects)
def test_without_lists_or_directives_strategic_patch_is_a_merge_patch(
    obj: dict[str, Any], patch: dict[str, Any]
) -> None:
    # The design document: a strategic merge patch differs from a JSON merge patch only for
    # lists and directives.
    expected = patching.apply_merge_patch(obj, patch)
    assert patching.apply_strategic_merge_patch(obj, patch, "", "ConfigMap") == expected


container_names = st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True, max_size=4)


@given(live=container_names, patched=container_names)
def test_keyed_merge_keeps_every_live_item_and_adds_new_ones_once(
    live: list[str], patched: list[str]
) -> None:
    obj = deployment(containers=[{"name": n, "image": "old"} for n in live])
    patch = {
        "spec": {
            "template": {"spec": {"containers": [{"name": n, "image": "new"} for n in patched]}}
        }
    }  # noqa: E501
    containers = pod_spec(smp(obj, patch))["containers"]
    assert [c["name"] for c in containers] == live + [n for n in patched if n not in live]
    assert all((c["image"] == "new") == (c["name"] in patched) for c in containers)
