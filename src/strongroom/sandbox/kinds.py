"""What particular built-in kinds do on create and update: defaults, status resets, immutables.

Only behaviour that a restore can run into is modelled: a real server resets the status of
kinds with a status subresource on create, defaults a few fields, and refuses changes to
fields that are immutable (a Service's clusterIP, a bound PVC's spec, an immutable ConfigMap's
data, a workload's selector, a Secret's type).
"""

from __future__ import annotations

import json
from typing import Any

from strongroom.sandbox import catalog, configdata, objects, status, workloads

Obj = dict[str, Any]
Cause = status.Cause

#: The status a freshly created object gets, for kinds whose status a create cannot set.
_INITIAL_STATUS: dict[tuple[str, str], Obj] = {
    ("", "namespaces"): {"phase": "Active"},
    ("", "pods"): {"phase": "Pending"},
    ("", "persistentvolumeclaims"): {"phase": "Pending"},
    ("", "persistentvolumes"): {"phase": "Pending"},
    ("", "services"): {"loadBalancer": {}},
}
_WORKLOADS = {
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
}
_SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")


def prepare_create(rtype: catalog.ResourceType, obj: Obj) -> None:
    """Reset status and apply the defaults a real server applies on create."""
    key = rtype.group_resource
    if "status" in rtype.subresources:
        initial = _INITIAL_STATUS.get(key)
        if initial is not None:
            obj["status"] = objects.deep(initial)
        elif rtype.custom:
            obj.pop("status", None)
        else:
            obj["status"] = {}
    if key == ("", "namespaces"):
        meta = objects.meta(obj)
        labels = meta.setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = meta["name"]
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
    elif key == ("", "services"):
        _default_service(obj)
    elif key == ("", "secrets"):
        obj.setdefault("type", "Opaque")
        configdata.fold_string_data(obj)
    elif key in _WORKLOADS:
        if key != ("apps", "daemonsets"):
            obj.setdefault("spec", {}).setdefault("replicas", 1)
        workloads.default_strategy(key, obj)
    elif key == ("batch", "jobs"):
        workloads.prepare_job(obj)


def _default_service(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    if spec["type"] == "ExternalName":
        return
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])


def carry_over(rtype: catalog.ResourceType, old: Obj, new: Obj) -> None:
    """On update: keep status (when it is a subresource) and values the server allocated."""
    if "status" in rtype.subresources:
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)
    if rtype.group_resource == ("", "secrets"):
        configdata.fold_string_data(new)
    if rtype.group_resource in _WORKLOADS:
        workloads.default_strategy(rtype.group_resource, new)
    if rtype.group_resource == ("", "namespaces"):
        new.setdefault("spec", {})["finalizers"] = (old.get("spec") or {}).get("finalizers", [])
        objects.meta(new).setdefault("labels", {})["kubernetes.io/metadata.name"] = old["metadata"][
            "name"
        ]
    if rtype.group_resource == ("", "services"):
        _default_service(new)
        old_spec = old.get("spec") or {}
        spec = new.setdefault("spec", {})
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
            spec["clusterIPs"] = old_spec.get("clusterIPs", [old_spec["clusterIP"]])
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            _carry_node_ports(old_spec, spec)


def _carry_node_ports(old_spec: Obj, spec: Obj) -> None:
    held = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
        for p in old_spec.get("ports") or []
        if isinstance(p, dict)
    }
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and not port.get("nodePort"):
            taken = held.get((port.get("port"), port.get("protocol", "TCP")))
            if taken:
                port["nodePort"] = taken


def validate(rtype: catalog.ResourceType, obj: Obj, old: Obj | None) -> list[Cause]:
    """Field errors of the kind-specific rules (``old``: the live object on update)."""
    key = rtype.group_resource
    causes: list[Cause] = []
    if key == ("", "services"):
        causes += _service_causes(obj, old)
    elif key in (("", "configmaps"), ("", "secrets")):
        causes += configdata.key_causes(obj, ("data", "binaryData"))
        if old is not None:
            causes += configdata.immutable_causes(obj, old)
    elif key == ("", "persistentvolumeclaims") and old is not None:
        causes += _pvc_causes(obj, old)
    elif key in _WORKLOADS:
        causes += _workload_causes(obj, old)
        causes += _template_causes(obj)
        if key == ("apps", "statefulsets") and old is not None:
            causes += workloads.statefulset_causes(obj, old)
    elif key == ("", "pods"):
        causes += workloads.pod_spec_causes(obj.get("spec"), "spec")
        if old is not None:
            causes += workloads.pod_causes(obj, old)
    elif key == ("batch", "jobs"):
        causes += workloads.job_causes(obj, old)
        causes += _template_causes(obj)
    elif key == ("storage.k8s.io", "storageclasses") and old is not None:
        causes += _unchanged(obj, old, ("provisioner",), ("parameters",), ("reclaimPolicy",))
    return causes


def _template_causes(obj: Obj) -> list[Cause]:
    template = objects.dig(obj, "spec", "template")
    if template is None:
        return [status.field("spec.template", "Required value", "FieldValueRequired")]
    return workloads.pod_spec_causes(objects.dig(template, "spec"), "spec.template.spec")


def _unchanged(obj: Obj, old: Obj, *paths: tuple[str, ...]) -> list[Cause]:
    causes = []
    for path in paths:
        value = objects.dig(obj, *path)
        if value != objects.dig(old, *path):
            causes.append(
                status.field(
                    ".".join(path), f"Invalid value: {json.dumps(value)}: field is immutable"
                )
            )
    return causes


def _service_causes(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    kind = spec.get("type", "ClusterIP")
    if kind == "ExternalName" and not spec.get("externalName"):
        causes.append(status.field("spec.externalName", "Required value", "FieldValueRequired"))
    if kind == "ExternalName" and spec.get("clusterIP") not in (None, "", "None"):
        causes.append(
            status.field(
                "spec.clusterIPs",
                f"Invalid value: []string{{{json.dumps(spec['clusterIP'])}}}: may not be set "
                "for ExternalName services",
            )
        )
    if kind not in _SERVICE_TYPES:
        causes.append(
            status.field(
                "spec.type",
                f"Unsupported value: {json.dumps(kind)}: supported "
                f"values: {', '.join(json.dumps(t) for t in _SERVICE_TYPES)}",
                "FieldValueNotSupported",
            )
        )
    if kind != "ExternalName" and spec.get("clusterIP") != "None" and not spec.get("ports"):
        causes.append(status.field("spec.ports", "Required value", "FieldValueRequired"))
    old_ip = objects.dig(old, "spec", "clusterIP") if old else None
    if old_ip and spec.get("clusterIP") and spec.get("clusterIP") != old_ip:
        causes.append(
            status.field(
                "spec.clusterIPs[0]",
                "Invalid value: []string{"
                f"{json.dumps(spec.get('clusterIP'))}}}: may not change once set",
            )
        )
    return causes


def _pvc_causes(obj: Obj, old: Obj) -> list[Cause]:
    def comparable(spec: Obj, bound: bool) -> Obj:
        out = objects.deep(spec)
        if bound:
            out.get("resources", {}).pop("requests", None)
        out.pop("volumeAttributesClassName", None)
        return out

    old_spec: Obj = old.get("spec") or {}
    new_spec: Obj = obj.get("spec") or {}
    bound = bool(old_spec.get("volumeName"))
    a, b = comparable(old_spec, bound), comparable(new_spec, bound)
    if not bound and b.get("volumeName"):
        a["volumeName"] = b["volumeName"]
    if a != b:
        return [
            status.field(
                "spec",
                "Forbidden: spec is immutable after creation except "
                "resources.requests and volumeAttributesClassName for bound claims",
                "FieldValueForbidden",
            )
        ]
    return []


def _workload_causes(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    causes: list[Cause] = []
    if not isinstance(selector, dict) or not selector:
        return [status.field("spec.selector", "Required value", "FieldValueRequired")]
    labels = objects.dig(spec, "template", "metadata", "labels") or {}
    wanted = selector.get("matchLabels") or {}
    if isinstance(labels, dict) and any(labels.get(k) != v for k, v in wanted.items()):
        causes.append(
            status.field(
                "spec.template.metadata.labels",
                f"Invalid value: {json.dumps(labels)}: `selector` does not match template `labels`",
            )
        )
    if old is not None and selector != objects.dig(old, "spec", "selector"):
        causes.append(
            status.field(
                "spec.selector", f"Invalid value: {json.dumps(selector)}: field is immutable"
            )
        )
    return causes
