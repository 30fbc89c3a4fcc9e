"""Namespaces: a mapped namespace is created under its new name, with the backed-up labels,
annotations and spec (Velero's namespace mapping for Namespace objects)."""

from __future__ import annotations

from typing import ClassVar

from strongroom.engine.restore.actions import base

#: The label the API server keeps equal to a namespace's name.
NAME_LABEL = "kubernetes.io/metadata.name"


class NamespaceAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/namespace"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("namespaces",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        meta = item.setdefault("metadata", {})
        target = action_input.context.map_namespace(str(meta.get("name", "")))
        meta["name"] = target
        labels = meta.get("labels")
        if isinstance(labels, dict) and NAME_LABEL in labels:
            labels[NAME_LABEL] = target
        return base.ActionOutput(item=item)
