"""PersistentVolumes, restored as objects without volume data.

``claimRef`` keeps the claim's name, loses its ``uid`` and ``resourceVersion`` (the restored
claim is a new object) and follows the namespace mapping, so the volume binds to the
restored claim.
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
        if isinstance(claim, dict):
            claim.pop("uid", None)
            claim.pop("resourceVersion", None)
            namespace = claim.get("namespace")
            if isinstance(namespace, str) and namespace:
                claim["namespace"] = action_input.context.map_namespace(namespace)
        return base.ActionOutput(item=item)
