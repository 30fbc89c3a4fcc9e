"""Storage classes renamed on restore (Velero's ``change-storage-class`` action, given as
``restore create --storage-class-mappings old:new``): the class of a claim, of a volume, and
of a StatefulSet's claim templates, so that a migration lands on the target's classes."""

from __future__ import annotations

from typing import ClassVar

from strongroom.engine.restore.actions import base


class StorageClassAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/change-storage-class"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = (
        "persistentvolumeclaims",
        "persistentvolumes",
        "statefulsets.apps",
    )

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        context = action_input.context
        if not context.storage_class_mappings:
            return base.ActionOutput(item=item)
        spec = base.spec(item)
        if action_input.key.group_resource == "statefulsets.apps":
            for template in spec.get("volumeClaimTemplates") or []:
                claim = template.get("spec") if isinstance(template, dict) else None
                if isinstance(claim, dict) and "storageClassName" in claim:
                    claim["storageClassName"] = context.map_storage_class(claim["storageClassName"])
        elif "storageClassName" in spec:
            spec["storageClassName"] = context.map_storage_class(spec["storageClassName"])
        return base.ActionOutput(item=item)
