"""PersistentVolumes, restored as objects without volume data.

``claimRef`` keeps the claim's name, loses its ``uid`` and ``resourceVersion`` (the restored
claim is a new object) and follows the namespace mapping, so the volume binds to the
restored claim. A volume whose claim's data the backup holds as a pod volume snapshot is not
restored (Velero's rule): the claim is provisioned anew and a node agent fills it.
"""

from __future__ import annotations

from typing import ClassVar

from strongroom.engine.restore.actions import base


class PVAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/pv"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("persistentvolumes",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        claim = base.spec(item).get("claimRef")
        volumes = action_input.context.pod_volumes
        if isinstance(claim, dict) and volumes is not None:
            bound = (str(claim.get("namespace") or ""), str(claim.get("name") or ""))
            if bound in volumes.claims:
                why = "its claim's data is restored by a node agent into a new volume"
                return base.ActionOutput(item=item, skip=True, reason=why)
        if isinstance(claim, dict):
            claim.pop("uid", None)
            claim.pop("resourceVersion", None)
            namespace = claim.get("namespace")
            if isinstance(namespace, str) and namespace:
                claim["namespace"] = action_input.context.map_namespace(namespace)
        return base.ActionOutput(item=item)
