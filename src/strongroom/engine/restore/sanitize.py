"""Turning a backed-up object into one the target cluster accepts: metadata stripping,
namespace mapping and the restore labels (Velero's ``resetMetadataAndStatus`` and the label
step of ``restoreItem``).

Every function returns a new object and leaves its argument untouched.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from strongroom.engine.restore import names

#: ``metadata`` fields dropped before an object is created anew.
STRIPPED_METADATA: tuple[str, ...] = (
    "generateName",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
    "managedFields",
)
BACKUP_LABEL = "strongroom.io/backup-name"
RESTORE_LABEL = "strongroom.io/restore-name"

Obj = dict[str, Any]


def strip(obj: Mapping[str, Any]) -> Obj:
    """A copy of ``obj`` without server-set metadata (:data:`STRIPPED_METADATA`) and status.

    Kept: ``name``, ``namespace``, ``labels``, ``annotations``, ``finalizers`` and anything
    else in ``metadata`` not listed.
    """
    out: Obj = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for field in STRIPPED_METADATA:
            meta.pop(field, None)
    return out


def restore_labels(backup_name: str, restore_name: str) -> dict[str, str]:
    """The labels put on every restored object (values shortened as Velero does)."""
    return {
        BACKUP_LABEL: names.valid_label_value(backup_name),
        RESTORE_LABEL: names.valid_label_value(restore_name),
    }


def with_labels(obj: Mapping[str, Any], labels: Mapping[str, str]) -> Obj:
    """A copy of ``obj`` with ``labels`` added to (or overriding) its own."""
    out: Obj = copy.deepcopy(dict(obj))
    meta = out.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), **labels}
    return out


def in_namespace(obj: Mapping[str, Any], namespace: str | None) -> Obj:
    """A copy of ``obj`` placed in ``namespace`` (None: cluster-scoped, no namespace field)."""
    out: Obj = copy.deepcopy(dict(obj))
    meta = out.setdefault("metadata", {})
    if namespace is None:
        meta.pop("namespace", None)
    else:
        meta["namespace"] = namespace
    return out


def comparable(live: Mapping[str, Any], labels: Mapping[str, str]) -> Obj:
    """An in-cluster object reduced the way a restored one is, for the equality check."""
    return with_labels(strip(live), labels)
