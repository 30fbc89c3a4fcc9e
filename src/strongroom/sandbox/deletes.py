"""DELETE on objects and collections: preconditions, finalizers, propagation, answers.

An immediate deletion answers a Success Status, or the deleted object for the resources whose
real registry returns it; an object that finalizers keep is answered with its
``deletionTimestamp`` set. ``propagationPolicy: Orphan`` removes the owner references of the
dependents first; otherwise the garbage collector deletes them (see :mod:`controllers`).
"""

from __future__ import annotations

from typing import Any

from strongroom.sandbox import catalog, cluster, lifecycle, objects, reads, status

Obj = dict[str, Any]
Call = cluster.Call


def delete(c: cluster.Cluster, call: Call) -> tuple[int, Obj]:
    """DELETE on an object: 200 with its last state (or with deletionTimestamp set)."""
    call.require("delete")
    rtype = call.rtype
    if call.route.name is None:
        return delete_collection(c, call)
    options = call.body if isinstance(call.body, dict) else {}
    pre = options.get("preconditions") or {}
    with c.store.lock:
        old = c.store.get(rtype.group_resource, call.route.namespace or "", call.route.name)
        if old is None:
            raise status.not_found(rtype.group, rtype.plural, call.route.name)
        meta = old["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise status.conflict(
                rtype.group,
                rtype.plural,
                call.route.name,
                f"Precondition failed: UID in precondition: {pre['uid']}, UID "
                f"in object meta: {meta['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise status.conflict(
                rtype.group,
                rtype.plural,
                call.route.name,
                "Precondition failed: ResourceVersion in precondition: "
                f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                f"{meta['resourceVersion']}",
            )
        if call.dry_run:
            return 200, objects.with_type(old, rtype)
        policy = options.get("propagationPolicy") or call.query.get("propagationPolicy")
        if policy == "Orphan" or options.get("orphanDependents") is True:
            lifecycle.orphan_dependents(c, old)
        elif policy == "Foreground":
            old = lifecycle.start_foreground(c, rtype.group_resource, old)
        obj, gone = lifecycle.request_deletion(c, rtype.group_resource, old)
        if gone and not _returns_deleted_object(rtype):
            return 200, _deleted_status(rtype, obj)
        return 200, objects.with_type(obj, rtype)


#: Resources whose immediate deletion answers the deleted object (``ReturnDeletedObject``);
#: the others answer a Success Status. An object kept by finalizers is always answered.
_RETURN_DELETED = frozenset(
    {
        ("", "pods"),
        ("", "services"),
        ("", "persistentvolumeclaims"),
        ("", "persistentvolumes"),
        ("", "serviceaccounts"),
        ("", "namespaces"),
        ("storage.k8s.io", "storageclasses"),
        cluster.CRD_RESOURCE,
    }
)


def _returns_deleted_object(rtype: catalog.ResourceType) -> bool:
    return rtype.custom or rtype.group_resource in _RETURN_DELETED


def _deleted_status(rtype: catalog.ResourceType, obj: Obj) -> Obj:
    details: Obj = {
        "name": obj["metadata"]["name"],
        "kind": rtype.plural,
        "uid": obj["metadata"].get("uid"),
    }
    if rtype.group:
        details["group"] = rtype.group
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def delete_collection(c: cluster.Cluster, call: Call) -> tuple[int, Obj]:
    """DELETE on a collection: deletes what the selectors match, returns them as a list."""
    call.require("deletecollection")
    rtype = call.rtype
    with c.store.lock:
        matched = reads.matching(c, call)
        done = []
        for obj in matched:
            if call.dry_run:
                done.append(obj)
                continue
            last, _ = lifecycle.request_deletion(c, rtype.group_resource, obj)
            done.append(last)
        return 200, reads.list_body(rtype, c.store.resource_version, done, {})
