"""RoleBindings and ClusterRoleBindings (Velero's ``role-bindings`` and
``cluster-role-bindings`` actions): each subject's namespace follows the namespace mapping, so
a mapped service account keeps its permissions."""

from __future__ import annotations

from typing import ClassVar

from strongroom.engine.restore.actions import base


def _remap_subjects(action_input: base.ActionInput) -> base.ActionOutput:
    item = action_input.item
    for subject in item.get("subjects") or []:
        if isinstance(subject, dict) and isinstance(subject.get("namespace"), str):
            subject["namespace"] = action_input.context.map_namespace(subject["namespace"])
    return base.ActionOutput(item=item)


class RoleBindingAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/role-bindings"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("rolebindings.rbac.authorization.k8s.io",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        return _remap_subjects(action_input)


class ClusterRoleBindingAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/cluster-role-bindings"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("clusterrolebindings.rbac.authorization.k8s.io",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        return _remap_subjects(action_input)
