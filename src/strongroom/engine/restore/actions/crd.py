"""CustomResourceDefinitions: ``preserveUnknownFields: true`` (valid only in the v1beta1 era)
becomes ``x-kubernetes-preserve-unknown-fields: true`` in every version's schema, as Velero's
``crd-preserve-fields`` action does, so a v1 API server accepts the definition."""

from __future__ import annotations

from typing import ClassVar

from strongroom.engine.restore.actions import base

V1 = "apiextensions.k8s.io/v1"


class CRDPreserveFieldsAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/crd-preserve-fields"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("customresourcedefinitions.apiextensions.k8s.io",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        spec = base.spec(item)
        if item.get("apiVersion") != V1 or spec.get("preserveUnknownFields") is not True:
            return base.ActionOutput(item=item)
        spec["preserveUnknownFields"] = False
        for version in spec.get("versions") or []:
            if not isinstance(version, dict):
                continue
            schema = version.get("schema")
            if not isinstance(schema, dict):
                schema = version["schema"] = {}
            props = schema.get("openAPIV3Schema")
            if not isinstance(props, dict):
                props = schema["openAPIV3Schema"] = {"type": "object"}
            props["x-kubernetes-preserve-unknown-fields"] = True
        return base.ActionOutput(item=item)
