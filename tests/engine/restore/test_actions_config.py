"""Restore item actions for volumes, accounts, secrets, RBAC, CRDs and namespaces."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.engine.restore import errors
from strongroom.engine.restore.actions import apiservice, base, pvc, registry, serviceaccount
from tests.engine.restore import actionkit

Obj = dict[str, Any]


def claim(volume: str | None = "pv-1") -> Obj:
    annotations = {name: "yes" for name in pvc.BINDING_ANNOTATIONS}
    annotations["team"] = "a"
    spec: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if volume is not None:
        spec["volumeName"] = volume
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "shop", "annotations": annotations},
        "spec": spec,
        "status": {"phase": "Bound"},
    }


def test_pvc_binding_annotations_are_removed() -> None:
    out = actionkit.run("persistentvolumeclaims", claim())
    assert out.item["metadata"]["annotations"] == {"team": "a"}


def test_pvc_keeps_volume_name_when_its_volume_is_restored() -> None:
    pv = base.ItemKey("persistentvolumes", None, "pv-1")
    out = actionkit.run("persistentvolumeclaims", claim(), planned=lambda key: key == pv)
    assert out.item["spec"]["volumeName"] == "pv-1"
    assert out.additional_items == (pv,)


def test_pvc_volume_name_cleared_when_its_volume_is_not_restored() -> None:
    out = actionkit.run("persistentvolumeclaims", claim())
    assert "volumeName" not in out.item["spec"]
    assert out.additional_items == (base.ItemKey("persistentvolumes", None, "pv-1"),)


def test_unbound_pvc_has_no_additional_items() -> None:
    out = actionkit.run("persistentvolumeclaims", claim(volume=None))
    assert out.additional_items == () and "volumeName" not in out.item["spec"]


def volume(namespace: str = "shop") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv-1", "uid": "pv-uid"},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {
                "kind": "PersistentVolumeClaim",
                "namespace": namespace,
                "name": "data",
                "uid": "claim-uid",
                "resourceVersion": "42",
                "apiVersion": "v1",
            },
        },
        "status": {"phase": "Bound"},
    }


@pytest.mark.parametrize(
    ("mappings", "expected"),
    [({}, "shop"), ({"shop": "shop-2"}, "shop-2"), ({"other": "x"}, "shop")],
)
def test_pv_claim_ref_loses_uid_and_follows_mapping(
    mappings: dict[str, str], expected: str
) -> None:
    out = actionkit.run("persistentvolumes", volume(), mappings=mappings)
    assert out.item["spec"]["claimRef"] == {
        "kind": "PersistentVolumeClaim",
        "namespace": expected,
        "name": "data",
        "apiVersion": "v1",
    }
    assert "status" not in out.item and "uid" not in out.item["metadata"]


def account(*secrets: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "shop"},
        "secrets": [{"name": s} for s in secrets],
        "imagePullSecrets": [{"name": "registry"}],
    }


def test_service_account_token_secrets_are_dropped() -> None:
    out = actionkit.run(
        "serviceaccounts", account("builder-token-abcde", "builder-dockercfg", "other-token-x")
    )
    assert out.item["secrets"] == [{"name": "builder-dockercfg"}, {"name": "other-token-x"}]


def test_service_account_merge_unions_lists_and_keeps_live_values() -> None:
    live = account("live-secret")
    live["metadata"]["labels"] = {"team": "live"}
    restored = account("builder-dockercfg", "live-secret")
    restored["metadata"]["labels"] = {"team": "backup", "tier": "web"}
    restored["imagePullSecrets"] = [{"name": "registry"}, {"name": "mirror"}]
    merged = serviceaccount.merge(live, restored)
    assert merged["secrets"] == [{"name": "live-secret"}, {"name": "builder-dockercfg"}]
    assert merged["imagePullSecrets"] == [{"name": "registry"}, {"name": "mirror"}]
    assert merged["metadata"]["labels"] == {"team": "live", "tier": "web"}
    assert live["secrets"] == [{"name": "live-secret"}]


def token_secret(name: str, account_name: str = "builder") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "annotations": {
                "kubernetes.io/service-account.name": account_name,
                "kubernetes.io/service-account.uid": "sa-uid",
                "note": "kept",
            },
        },
        "data": {"token": "dG9rZW4=", "ca.crt": "Y2E=", "namespace": "c2hvcA=="},
    }


def test_auto_created_token_secrets_are_skipped() -> None:
    out = actionkit.run("secrets", token_secret("builder-token-x7k2p"))
    assert out.skip and "builder" in out.reason


def test_other_token_secrets_lose_token_ca_and_uid() -> None:
    out = actionkit.run("secrets", token_secret("builder-long-lived"))
    assert not out.skip
    assert out.item["data"] == {"namespace": "c2hvcA=="}
    assert out.item["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": "builder",
        "note": "kept",
    }


def test_opaque_secrets_are_untouched() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "builder-token-x", "namespace": "shop"},
        "data": {"token": "c2VjcmV0"},
    }
    out = actionkit.run("secrets", obj)
    assert not out.skip and out.item["data"] == {"token": "c2VjcmV0"}


@pytest.mark.parametrize(
    "group_resource",
    ["rolebindings.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io"],
)
def test_binding_subject_namespaces_follow_mapping(group_resource: str) -> None:
    obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "b", "namespace": "shop"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [
            {"kind": "ServiceAccount", "name": "builder", "namespace": "shop"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"},
            {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
        ],
    }
    out = actionkit.run(group_resource, obj, mappings={"shop": "shop-2"})
    assert [s.get("namespace") for s in out.item["subjects"]] == ["shop-2", "tools", None]


def crd(preserve: bool, api_version: str = "apiextensions.k8s.io/v1") -> Obj:
    return {
        "apiVersion": api_version,
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "preserveUnknownFields": preserve,
            "versions": [
                {"name": "v1", "served": True, "storage": True},
                {
                    "name": "v2",
                    "served": True,
                    "storage": False,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {}}},
                },
            ],
        },
    }


def test_crd_preserve_unknown_fields_moves_into_the_schemas() -> None:
    out = actionkit.run("customresourcedefinitions.apiextensions.k8s.io", crd(True))
    spec = out.item["spec"]
    assert spec["preserveUnknownFields"] is False
    schemas = [v["schema"]["openAPIV3Schema"] for v in spec["versions"]]
    assert schemas == [
        {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        {"type": "object", "properties": {}, "x-kubernetes-preserve-unknown-fields": True},
    ]


@pytest.mark.parametrize("obj", [crd(False), crd(True, api_version="apiextensions.k8s.io/v1beta1")])
def test_crd_left_alone_otherwise(obj: Obj) -> None:
    out = actionkit.run("customresourcedefinitions.apiextensions.k8s.io", obj)
    assert out.item["spec"] == obj["spec"]


def test_namespace_name_and_name_label_follow_mapping() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "shop",
            "uid": "ns-uid",
            "labels": {"kubernetes.io/metadata.name": "shop", "team": "a"},
            "annotations": {"owner": "ops"},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
    out = actionkit.run("namespaces", obj, mappings={"shop": "shop-2"})
    assert out.item == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "shop-2",
            "labels": {"kubernetes.io/metadata.name": "shop-2", "team": "a"},
            "annotations": {"owner": "ops"},
        },
        "spec": {"finalizers": ["kubernetes"]},
    }


class _OldAction:
    API_VERSION = "strongroom.io/restore-item-action/v0"
    NAME = "example.com/old"
    GROUP_RESOURCES = ("configmaps",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        return base.ActionOutput(item=action_input.item)


class _Skipper:
    API_VERSION = base.API_VERSION
    NAME = "example.com/skip-configmaps"
    GROUP_RESOURCES = ("configmaps",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        return base.ActionOutput(
            item=action_input.item, skip=True, reason="not wanted", warnings=("w",)
        )


def test_registry_refuses_other_interface_versions_and_duplicate_names() -> None:
    found = registry.default()
    with pytest.raises(errors.RestoreError, match="v0"):
        found.register(_OldAction())
    with pytest.raises(errors.RestoreError, match="already registered"):
        found.register(registry.BUILT_IN[0]())


def test_third_party_actions_run_through_the_same_registry() -> None:
    found = registry.default()
    found.register(_Skipper())
    key = base.ItemKey("configmaps", "shop", "c")
    context = base.ActionContext("b", "r", {})
    out = found.run(base.ActionInput(key, {"metadata": {"name": "c"}}, {}, context))
    assert out.skip and out.reason == "not wanted" and out.warnings == ("w",)


def test_every_built_in_action_declares_the_current_interface() -> None:
    names = [a.NAME for a in registry.BUILT_IN]
    assert len(set(names)) == len(names)
    assert all(a.API_VERSION == base.API_VERSION for a in registry.BUILT_IN)


@pytest.mark.parametrize(
    ("labels", "skipped"), [({apiservice.AUTOMANAGED: "onstart"}, True), ({}, False)]
)
def test_automanaged_api_services_are_skipped(labels: dict[str, str], skipped: bool) -> None:
    obj = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": "v1.apps", "labels": labels},
        "spec": {"group": "apps", "version": "v1"},
    }
    assert actionkit.run("apiservices.apiregistration.k8s.io", obj).skip is skipped


@pytest.mark.parametrize(
    "group_resource",
    [
        "mutatingwebhookconfigurations.admissionregistration.k8s.io",
        "validatingwebhookconfigurations.admissionregistration.k8s.io",
    ],
)
def test_webhook_side_effects_made_valid_for_v1(group_resource: str) -> None:
    obj = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "hooks"},
        "webhooks": [
            {"name": "a.example.com", "sideEffects": "Unknown"},
            {"name": "b.example.com", "sideEffects": "NoneOnDryRun"},
            {"name": "c.example.com"},
        ],
    }
    out = actionkit.run(group_resource, obj)
    assert [w["sideEffects"] for w in out.item["webhooks"]] == ["None", "NoneOnDryRun", "None"]
    assert len(out.warnings) == 2
    obj["apiVersion"] = "admissionregistration.k8s.io/v1beta1"
    assert actionkit.run(group_resource, obj).item["webhooks"][0]["sideEffects"] == "Unknown"


def _with_classes(group_resource: str, obj: dict[str, Any], mappings: dict[str, str]) -> Any:
    from strongroom.engine.restore import sanitize
    from strongroom.engine.restore.actions import base, registry

    meta = obj.get("metadata", {})
    key = base.ItemKey(group_resource, meta.get("namespace"), meta.get("name", ""))
    context = base.ActionContext("nightly", "r1", {}, storage_class_mappings=mappings)
    return registry.default().run(base.ActionInput(key, sanitize.strip(obj), obj, context))


def test_storage_classes_are_renamed_on_claims_volumes_and_claim_templates() -> None:
    mappings = {"local-path": "fast"}
    claim = {"metadata": {"name": "d", "namespace": "shop"},
             "spec": {"storageClassName": "local-path"}}  # fmt: skip
    assert _with_classes("persistentvolumeclaims", claim, mappings).item["spec"] == {
        "storageClassName": "fast"
    }
    other = {"metadata": {"name": "e", "namespace": "shop"}, "spec": {"storageClassName": "x"}}
    assert _with_classes("persistentvolumeclaims", other, mappings).item["spec"] == {
        "storageClassName": "x"
    }
    volume = {"metadata": {"name": "pv"}, "spec": {"storageClassName": "local-path"}}
    assert _with_classes("persistentvolumes", volume, mappings).item["spec"][
        "storageClassName"
    ] == ("fast")
    templates = [{"metadata": {"name": "data"}, "spec": {"storageClassName": "local-path"}},
                 {"metadata": {"name": "logs"}, "spec": {}}]  # fmt: skip
    sts = {"metadata": {"name": "db", "namespace": "shop"},
           "spec": {"volumeClaimTemplates": templates}}  # fmt: skip
    out = _with_classes("statefulsets.apps", sts, mappings).item["spec"]["volumeClaimTemplates"]
    assert [t["spec"] for t in out] == [{"storageClassName": "fast"}, {}]


def test_storage_class_mappings_parse_strictly() -> None:
    from strongroom.engine.restore import errors, spec

    assert spec.parse_storage_class_mappings("a:b, c.d:e-f") == {"a": "b", "c.d": "e-f"}
    assert spec.parse_storage_class_mappings(" ") == {}
    for bad in ("a", "a:", ":b", "a:b:c", "A:b", "a:b,a:c"):
        with pytest.raises(errors.MappingError):
            spec.parse_storage_class_mappings(bad)
