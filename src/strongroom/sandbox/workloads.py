"""Rules of pods, Jobs and StatefulSets that a restore runs into.

- A Pod's spec is immutable after creation except container images, activeDeadlineSeconds,
  added tolerations and terminationGracePeriodSeconds.
- A Job without ``manualSelector: true`` gets a generated selector and template labels from
  its uid, and a Job that brings its own selector is refused (``selector`` not
  auto-generated): a Job restored from another cluster must drop them. Its template is
  immutable.
- A StatefulSet may change only replicas, ordinals, template, updateStrategy,
  persistentVolumeClaimRetentionPolicy and minReadySeconds.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from strongroom.sandbox import objects, status, validation

Obj = dict[str, Any]
Cause = status.Cause

_POD_MUTABLE = (
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
_STS_MUTABLE = (
    "'replicas', 'ordinals', 'template', 'updateStrategy', "
    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds'"
)
_JOB_UID = "batch.kubernetes.io/controller-uid"


def _without_images(spec: Obj) -> Obj:
    out = copy.deepcopy(spec)
    for part in ("containers", "initContainers"):
        for container in out.get(part) or []:
            if isinstance(container, dict):
                container.pop("image", None)
    for key in ("activeDeadlineSeconds", "terminationGracePeriodSeconds", "tolerations"):
        out.pop(key, None)
    return out


def pod_causes(obj: Obj, old: Obj) -> list[Cause]:
    old_spec, new_spec = old.get("spec") or {}, obj.get("spec") or {}
    causes = []
    if _without_images(old_spec) != _without_images(new_spec):
        causes.append(
            status.field(
                "spec",
                f"Forbidden: pod updates may not change fields other than {_POD_MUTABLE}",
                "FieldValueForbidden",
            )
        )
    old_tolerations = old_spec.get("tolerations") or []
    new_tolerations = new_spec.get("tolerations") or []
    if any(t not in new_tolerations for t in old_tolerations):
        causes.append(
            status.field(
                "spec.tolerations",
                "Forbidden: existing toleration can not be modified except its tolerationSeconds",
                "FieldValueForbidden",
            )
        )
    return causes


def prepare_job(obj: Obj) -> None:
    """Generate a Job's selector and template labels from its uid (unless manualSelector)."""
    spec = obj.setdefault("spec", {})
    if spec.get("manualSelector") or spec.get("selector"):
        return
    meta = obj["metadata"]
    uid, name = meta["uid"], meta["name"]
    spec["selector"] = {"matchLabels": {_JOB_UID: uid}}
    template = spec.setdefault("template", {})
    template_meta = template.setdefault("metadata", {})
    labels = template_meta.setdefault("labels", {})
    labels.update(
        {
            _JOB_UID: uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
        }
    )
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)


def job_causes(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    if old is None:
        uid = obj["metadata"].get("uid")
        generated = objects.dig(spec, "selector", "matchLabels", _JOB_UID)
        if not spec.get("manualSelector") and spec.get("selector") and generated != uid:
            causes.append(
                status.field(
                    "spec.selector",
                    f"Invalid value: {json.dumps(spec['selector'])}: `selector` not auto-generated",
                )
            )
        return causes
    old_spec = old.get("spec") or {}
    for key in ("selector", "template", "completionMode"):
        if spec.get(key) != old_spec.get(key):
            causes.append(
                status.field(
                    f"spec.{key}",
                    f"Invalid value: {json.dumps(spec.get(key))[:200]}: field is immutable",
                )
            )
    return causes


def statefulset_causes(obj: Obj, old: Obj) -> list[Cause]:
    mutable = (
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    )
    new_spec = {k: v for k, v in (obj.get("spec") or {}).items() if k not in mutable}
    old_spec = {k: v for k, v in (old.get("spec") or {}).items() if k not in mutable}
    if new_spec != old_spec:
        return [
            status.field(
                "spec",
                "Forbidden: updates to statefulset spec for fields other "
                f"than {_STS_MUTABLE} are forbidden",
                "FieldValueForbidden",
            )
        ]
    return []


def pod_spec_causes(spec: Any, path: str) -> list[Cause]:
    """The container rules of a pod spec: at least one container, each named and with an image,
    names unique DNS-1123 labels."""
    if not isinstance(spec, dict):
        return [status.field(path, "Required value", "FieldValueRequired")]
    containers = spec.get("containers")
    if not containers:
        return [status.field(f"{path}.containers", "Required value", "FieldValueRequired")]
    causes: list[Cause] = []
    seen: set[str] = set()
    for part in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(part) or []):
            where = f"{path}.{part}[{i}]"
            if not isinstance(container, dict):
                continue
            name = container.get("name")
            if not name:
                causes.append(status.field(f"{where}.name", "Required value", "FieldValueRequired"))
            else:
                causes.extend(
                    status.field(f"{where}.name", f"Invalid value: {json.dumps(name)}: {m}")
                    for m in validation.dns_label(str(name))
                )
                if name in seen:
                    causes.append(
                        status.field(
                            f"{where}.name",
                            f"Duplicate value: {json.dumps(name)}",
                            "FieldValueDuplicate",
                        )
                    )
                seen.add(str(name))
            if not container.get("image") and part == "containers":
                causes.append(
                    status.field(f"{where}.image", "Required value", "FieldValueRequired")
                )
    return causes


_STRATEGY_DEFAULTS: dict[tuple[str, str], Obj] = {
    ("apps", "deployments"): {
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
        },
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    },
    ("apps", "statefulsets"): {
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "podManagementPolicy": "OrderedReady",
        "revisionHistoryLimit": 10,
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
    },
    ("apps", "daemonsets"): {
        "updateStrategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
        },
        "revisionHistoryLimit": 10,
    },
}


def default_strategy(key: tuple[str, str], obj: Obj) -> None:
    """The strategy fields an API server fills in on a workload that leaves them out."""
    defaults = _STRATEGY_DEFAULTS.get(key)
    spec = obj.get("spec")
    if defaults is None or not isinstance(spec, dict):
        return
    for field, value in defaults.items():
        if field not in spec:
            spec[field] = copy.deepcopy(value)
