"""The admission plugins a pod meets on create: ServiceAccount and Priority.

- ServiceAccount: ``spec.serviceAccountName`` defaults to ``default``, and a pod naming
  another service account that does not exist in its namespace is refused (403 Forbidden),
  which is why a restore creates service accounts before pods.
- Priority: a pod naming a PriorityClass that does not exist is refused (403 Forbidden); a
  pod naming one (or none, when a class is the global default) gets its ``priority`` value.
  The two system classes, ``system-cluster-critical`` and ``system-node-critical``, always
  exist (see :func:`system_priority_classes`).
"""

from __future__ import annotations

from typing import Any

from strongroom.sandbox import status, store

Obj = dict[str, Any]

SERVICE_ACCOUNTS = ("", "serviceaccounts")
PRIORITY_CLASSES = ("scheduling.k8s.io", "priorityclasses")


def system_priority_classes() -> list[Obj]:
    """The PriorityClasses every cluster has."""
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name},
            "value": value,
            "description": f"Used for {what} critical pods that must not be moved from their "
            "current node.",
            "preemptionPolicy": "PreemptLowerPriority",
        }
        for name, value, what in (
            ("system-node-critical", 2000001000, "system"),
            ("system-cluster-critical", 2000000000, "system"),
        )
    ]


def admit_pod(objects_store: store.Store, pod: Obj) -> None:
    """Default and check a pod about to be created (the caller holds the store lock)."""
    meta = pod["metadata"]
    namespace, name = meta.get("namespace") or "", str(meta.get("name") or "")
    spec = pod.setdefault("spec", {})
    account = spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", account)
    # The default account is made by a controller right after its namespace; a pod created in
    # that instant is let through rather than refused at random.
    if account != "default" and objects_store.get(SERVICE_ACCOUNTS, namespace, account) is None:
        raise status.forbidden(
            "",
            "pods",
            name,
            f"error looking up service account {namespace}/{account}: serviceaccount "
            f'"{account}" not found',
        )
    wanted = spec.get("priorityClassName")
    if wanted:
        found = objects_store.get(PRIORITY_CLASSES, "", wanted)
        if found is None:
            raise status.forbidden(
                "", "pods", name, f"no PriorityClass with name {wanted} was found"
            )
        spec["priority"] = found.get("value", 0)
        return
    _, classes = objects_store.items(PRIORITY_CLASSES, None)
    default = next((c for c in classes if c.get("globalDefault")), None)
    if default is not None:
        spec["priorityClassName"] = default["metadata"]["name"]
        spec["priority"] = default.get("value", 0)
    else:
        spec.setdefault("priority", 0)
