"""What a restore does with an object that already exists in the target cluster (Velero).

The live object is reduced the way a restored one is (metadata and status stripped, the
restore labels set) and compared with the object to restore:

- equal: skipped; under the ``update`` policy the backup and restore labels are patched on;
- different, a ServiceAccount: merged with the live one and patched, whatever the policy;
- different, policy ``none``: skipped with the warning "could not restore, <Kind> "<name>"
  already exists. Warning: the in-cluster version is different than the backed-up version";
- different, policy ``update``: a JSON merge patch from the live object to the backed-up
  one; when the server refuses it (immutable fields), only the labels are patched, with a
  warning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from strongroom.engine.restore import errors, mergepatch, outcome, sanitize
from strongroom.engine.restore.actions import serviceaccount
from strongroom.kube import client, discovery
from strongroom.kube import errors as kube_errors

SERVICE_ACCOUNTS = "serviceaccounts"


@dataclasses.dataclass(frozen=True)
class Decision:
    """What happened (or, in a dry run, would happen) to an existing object."""

    action: outcome.Action
    identical: bool
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


def different_warning(kind: str, name: str) -> str:
    return (
        f'could not restore, {kind} "{name}" already exists. Warning: the in-cluster version '
        "is different than the backed-up version"
    )


def compare(live: Mapping[str, Any], desired: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether the live object equals the object to restore, as Velero compares them."""
    return sanitize.comparable(live, labels) == dict(desired)


def resolve(
    kube: client.Client,
    res: discovery.APIResource,
    live: Mapping[str, Any],
    desired: Mapping[str, Any],
    *,
    labels: Mapping[str, str],
    policy: str,
) -> Decision:
    """Handle an existing object (see the module docstring); never raises an API error.

    Patches go from the live object (stripped, without the restore labels) to the object to
    restore, so they also set the restore labels.
    """
    stripped = sanitize.strip(live)
    reduced = sanitize.with_labels(stripped, labels)
    meta = desired.get("metadata") or {}
    name, namespace = str(meta.get("name", "")), meta.get("namespace")
    kind = str(desired.get("kind", res.kind))
    patcher = _Patcher(kube, res, name, namespace)
    if reduced == dict(desired):
        if policy != "update":
            return Decision("skipped", True)
        problem = patcher.labels(labels)
        return Decision("skipped", True, errors=(problem,) if problem else ())
    if res.group_resource == SERVICE_ACCOUNTS:
        merged = serviceaccount.merge(stripped, desired)
        problem = patcher.patch(mergepatch.create(stripped, merged))
        if problem:
            return Decision("skipped", False, warnings=(problem,))
        return Decision("updated", False)
    if policy != "update":
        return Decision("skipped", False, warnings=(different_warning(kind, name),))
    problem = patcher.patch(mergepatch.create(stripped, desired))
    if not problem:
        return Decision("updated", False)
    warning = f"{problem}; updating only its backup and restore labels"
    label_problem = patcher.labels(labels)
    if label_problem:
        return Decision("failed", False, warnings=(warning,), errors=(label_problem,))
    return Decision("skipped", False, warnings=(warning,))


@dataclasses.dataclass(frozen=True)
class _Patcher:
    kube: client.Client
    res: discovery.APIResource
    name: str
    namespace: str | None

    def patch(self, body: dict[str, Any]) -> str | None:
        """None when the merge patch applied (or was empty), else the problem."""
        if not body:
            return None
        try:
            self.kube.patch(self.res, self.name, body, self.namespace, patch_type="merge")
        except errors.FATAL_KUBE_ERRORS:
            raise
        except kube_errors.ApiError as exc:
            where = outcome.entry_name(self.namespace, self.name)
            reason = exc.reason or exc.status
            return f"could not update {self.res.kind} {where}: {reason}: {exc.api_message}"
        return None

    def labels(self, labels: Mapping[str, str]) -> str | None:
        return self.patch({"metadata": {"labels": dict(labels)}})
