"""Pods (Velero's ``pod`` and ``add-pvc-from-pod`` actions).

- completed pods (phase ``Succeeded`` or ``Failed``) and mirror pods are not restored;
- ``nodeName`` and ``priority`` are cleared, so the scheduler and the priority admission
  decide anew;
- volumes named ``<service account>-token-*`` (the legacy token secrets, recreated by the
  cluster) are dropped with their mounts in containers and init containers;
- the pod's PriorityClass and PVCs are additional items;
- a pod whose volumes' data the backup holds gets the restore helper as its first init
  container (Velero's ``pod-volume-restore`` action), holding it until the node agent has
  restored those volumes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strongroom.engine.podvolumes import restores
from strongroom.engine.restore.actions import base

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
COMPLETED_PHASES = ("Succeeded", "Failed")


class PodAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/pod"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("pods",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        phase = (action_input.backup_item.get("status") or {}).get("phase")
        if phase in COMPLETED_PHASES:
            return base.ActionOutput(item=item, skip=True, reason=f"pod has completed ({phase})")
        if MIRROR_ANNOTATION in (base.metadata(action_input.backup_item).get("annotations") or {}):
            return base.ActionOutput(item=item, skip=True, reason="mirror pod")
        spec = base.spec(item)
        spec.pop("nodeName", None)
        spec.pop("priority", None)
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        _drop_token_volumes(spec, f"{account}-token-")
        volumes = action_input.context.pod_volumes
        key = action_input.key
        held = () if volumes is None else volumes.by_pod.get((key.namespace or "", key.name), ())
        if held and volumes is not None:
            helper = restores.helper_container(held, volumes.marker, volumes.image)
            init = spec.get("initContainers") or []
            others = [c for c in init if c.get("name") != restores.HELPER]
            spec["initContainers"] = [helper, *others]
        return base.ActionOutput(item=item, additional_items=_related(action_input.key, spec))


def _drop_token_volumes(spec: dict[str, Any], prefix: str) -> None:
    volumes = spec.get("volumes")
    if isinstance(volumes, list):
        spec["volumes"] = [v for v in volumes if not (isinstance(v, dict) and _named(v, prefix))]
    for field in ("containers", "initContainers"):
        for container in spec.get(field) or []:
            mounts = container.get("volumeMounts") if isinstance(container, dict) else None
            if isinstance(mounts, list):
                container["volumeMounts"] = [
                    m for m in mounts if not (isinstance(m, dict) and _named(m, prefix))
                ]


def _named(entry: dict[str, Any], prefix: str) -> bool:
    return str(entry.get("name", "")).startswith(prefix)


def _related(key: base.ItemKey, spec: dict[str, Any]) -> tuple[base.ItemKey, ...]:
    found: list[base.ItemKey] = []
    priority_class = spec.get("priorityClassName")
    if isinstance(priority_class, str) and priority_class:
        found.append(base.ItemKey("priorityclasses.scheduling.k8s.io", None, priority_class))
    for volume in spec.get("volumes") or []:
        claim = (volume.get("persistentVolumeClaim") or {}) if isinstance(volume, dict) else {}
        name = claim.get("claimName") if isinstance(claim, dict) else None
        if isinstance(name, str) and name:
            found.append(base.ItemKey("persistentvolumeclaims", key.namespace, name))
    return tuple(found)
