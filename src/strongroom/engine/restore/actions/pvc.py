"""PersistentVolumeClaims (Velero's ``pvc`` action and the core restorer's PVC handling).

The binding annotations the PV controller wrote are removed, so the claim binds anew.
``spec.volumeName`` is kept only when its PersistentVolume is restored by this run too (as it
was backed up); otherwise it is cleared and the claim is provisioned dynamically. The bound
volume is an additional item, except for a claim whose data the backup holds as a pod volume
snapshot: Velero's rule, the claim gets a new volume and the node agent fills it.
"""

from __future__ import annotations

from typing import ClassVar

from strongroom.engine.restore.actions import base

BINDING_ANNOTATIONS: tuple[str, ...] = (
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
    "velero.io/volume-snapshot-name",
    "velero.io/data-upload-name",
)


class PVCAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/pvc"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("persistentvolumeclaims",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        annotations = base.metadata(item).get("annotations")
        if isinstance(annotations, dict):
            for name in BINDING_ANNOTATIONS:
                annotations.pop(name, None)
        spec = base.spec(item)
        volume = spec.get("volumeName")
        volumes = action_input.context.pod_volumes
        key = action_input.key
        if volumes is not None and (key.namespace or "", key.name) in volumes.claims:
            spec.pop("volumeName", None)  # its data comes back through a node agent
            return base.ActionOutput(item=item)
        if not isinstance(volume, str) or not volume:
            spec.pop("volumeName", None)
            return base.ActionOutput(item=item)
        pv = base.ItemKey("persistentvolumes", None, volume)
        if not action_input.context.planned(pv):
            del spec["volumeName"]
        return base.ActionOutput(item=item, additional_items=(pv,))
