"""Which actions run on which group-resources, in registration order.

::

    registry = registry.default()        # every built-in action
    output = registry.run(action_input)  # all actions for the item's group-resource, chained
"""

from __future__ import annotations

import dataclasses

from strongroom.engine.restore import errors
from strongroom.engine.restore.actions import (
    apiservice,
    base,
    crd,
    job,
    namespace,
    pod,
    pv,
    pvc,
    rolebinding,
    secret,
    service,
    serviceaccount,
    storageclass,
    webhooks,
)

BUILT_IN: tuple[type[base.RestoreItemAction], ...] = (
    namespace.NamespaceAction,
    crd.CRDPreserveFieldsAction,
    pod.PodAction,
    service.ServiceAction,
    pvc.PVCAction,
    pv.PVAction,
    storageclass.StorageClassAction,
    job.JobAction,
    serviceaccount.ServiceAccountAction,
    secret.SecretAction,
    rolebinding.RoleBindingAction,
    rolebinding.ClusterRoleBindingAction,
    apiservice.APIServiceAction,
    webhooks.AdmissionWebhookAction,
)


class Registry:
    """Actions keyed by group-resource; each run gets the previous action's output item."""

    def __init__(self) -> None:
        self._by_resource: dict[str, list[base.RestoreItemAction]] = {}
        self._names: set[str] = set()

    def register(self, action: base.RestoreItemAction) -> None:
        """Add ``action``; refuses another interface version or a name already taken."""
        if action.API_VERSION != base.API_VERSION:
            raise errors.RestoreError(
                f"restore item action {action.NAME}: interface {action.API_VERSION!r} is not "
                f"{base.API_VERSION!r}"
            )
        if action.NAME in self._names:
            raise errors.RestoreError(f"restore item action {action.NAME}: already registered")
        self._names.add(action.NAME)
        for group_resource in action.GROUP_RESOURCES:
            self._by_resource.setdefault(group_resource, []).append(action)

    def actions_for(self, group_resource: str) -> tuple[base.RestoreItemAction, ...]:
        return tuple(self._by_resource.get(group_resource, ()))

    def run(self, action_input: base.ActionInput) -> base.ActionOutput:
        """Every action of the item's group-resource in turn; stops at the first skip.

        Additional items and warnings of all actions that ran are gathered.
        """
        current = base.ActionOutput(item=action_input.item)
        additional: list[base.ItemKey] = []
        warnings: list[str] = []
        for action in self.actions_for(action_input.key.group_resource):
            out = action.execute(dataclasses.replace(action_input, item=current.item))
            additional.extend(k for k in out.additional_items if k not in additional)
            warnings.extend(out.warnings)
            current = out
            if out.skip:
                break
        return dataclasses.replace(
            current, additional_items=tuple(additional), warnings=tuple(warnings)
        )


def default() -> Registry:
    """A registry holding every built-in action."""
    found = Registry()
    for action_class in BUILT_IN:
        found.register(action_class())
    return found
