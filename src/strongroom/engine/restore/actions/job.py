"""Jobs (Velero's ``job`` action): completed jobs (``status.completionTime`` set) are not
restored; the ``controller-uid`` labels the job controller put in the selector and the pod
template are removed, since they name the old job's uid."""

from __future__ import annotations

from typing import ClassVar

from strongroom.engine.restore.actions import base

CONTROLLER_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")


class JobAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/job"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("jobs.batch",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        if (action_input.backup_item.get("status") or {}).get("completionTime"):
            return base.ActionOutput(item=item, skip=True, reason="job has completed")
        spec = base.spec(item)
        selector = spec.get("selector")
        match = selector.get("matchLabels") if isinstance(selector, dict) else None
        template = spec.get("template")
        labels = base.metadata(template).get("labels") if isinstance(template, dict) else None
        for found in (match, labels):
            if isinstance(found, dict):
                for label in CONTROLLER_UID_LABELS:
                    found.pop(label, None)
        return base.ActionOutput(item=item)
