"""APIServices (Velero's ``apiservice`` action): those the kube-aggregator registers for
built-in groups (label ``kube-aggregator.kubernetes.io/automanaged``) are not restored; the
target cluster has its own."""

from __future__ import annotations

from typing import ClassVar

from strongroom.engine.restore.actions import base

AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"


class APIServiceAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/apiservice"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("apiservices.apiregistration.k8s.io",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        if AUTOMANAGED in (base.metadata(item).get("labels") or {}):
            return base.ActionOutput(item=item, skip=True, reason="registered by kube-aggregator")
        return base.ActionOutput(item=item)
