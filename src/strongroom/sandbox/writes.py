"""Create, update and delete, with the checks and codes of a real API server.

Every write goes through :func:`commit` (updates and patches) or :func:`create`, which hold
the store lock from the read of the live object to the store of the new one.
"""

from __future__ import annotations

from typing import Any

from strongroom.sandbox import (
    admission,
    cluster,
    crds,
    kinds,
    lifecycle,
    objects,
    patching,
    podadmission,
    scale,
    status,
)

Obj = dict[str, Any]
Call = cluster.Call

_SERVER_META = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)


def body_object(call: Call) -> Obj:
    """The request body as an object of the route's kind, checked against the URL."""
    body = call.body
    rtype = call.rtype
    if not isinstance(body, dict):
        raise status.bad_request("the body of the request must be a JSON or YAML object")
    if not isinstance(body.get("metadata", {}), dict):
        raise status.bad_request(
            f'{rtype.kind} in version "{rtype.version}" cannot be handled as a {rtype.kind}: '
            "json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta"
        )
    api_version = body.setdefault("apiVersion", rtype.group_version)
    kind = body.setdefault("kind", rtype.kind)
    if api_version != rtype.group_version:
        raise status.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({rtype.group_version})"
        )
    if kind != rtype.kind:
        raise status.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({rtype.kind})"
        )
    meta = objects.meta(body)
    meta.pop("selfLink", None)
    namespace = call.route.namespace
    if rtype.namespaced:
        given = meta.get("namespace")
        if given and given != namespace:
            raise status.bad_request(
                "the namespace of the provided object does not match the "
                "namespace sent on the request"
            )
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    return body


def create(c: cluster.Cluster, call: Call) -> tuple[int, Obj]:
    """POST on a collection: 201 with the stored object."""
    call.require("create")
    rtype = call.rtype
    if call.route.name is not None or (rtype.namespaced and call.route.namespace is None):
        raise status.method_not_supported(rtype.group, rtype.plural, "create")
    obj = body_object(call)
    if obj["metadata"].get("resourceVersion"):
        # A storage-layer refusal on a real server: 500 with no reason.
        raise status.ApiError(500, "", "resourceVersion should not be set on objects to be created")
    with c.store.lock:
        return insert(c, call, record_manager(call, None, obj))


def insert(c: cluster.Cluster, call: Call, obj: Obj) -> tuple[int, Obj]:
    """Store a new object (create, or apply of an absent one): 201 with what was stored."""
    rtype = call.rtype
    meta = obj["metadata"]
    for key in (*_SERVER_META, "resourceVersion"):
        meta.pop(key, None)
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = objects.generated_name(str(meta["generateName"]))
    admission.check_fields(c, call, obj)
    admission.check_object(call, obj, None)
    gr = rtype.group_resource
    with c.store.lock:
        if rtype.namespaced:
            c.namespace_gate(rtype, meta["namespace"], meta["name"])
        if c.store.get(gr, meta.get("namespace") or "", meta["name"]) is not None:
            raise status.already_exists(rtype.group, rtype.plural, meta["name"])
        meta["uid"] = objects.new_uid()
        meta["creationTimestamp"] = objects.now()
        kinds.prepare_create(rtype, obj)
        if objects.has_generation(rtype, obj):
            meta["generation"] = 1
        if gr == cluster.CRD_RESOURCE:
            crds.prepare(obj, None)
        if gr == cluster.SERVICES:
            _allocate(c, call, obj, None)
        if gr == cluster.PODS:
            podadmission.admit_pod(c.store, obj)
        if call.dry_run:
            return 201, objects.with_type(obj, rtype)
        return 201, objects.with_type(c.store.put(gr, obj), rtype)


def manager_of(call: Call) -> str:
    """The field manager of a request: ``fieldManager``, else the user agent's product name."""
    given = call.query.get("fieldManager")
    if given:
        return given
    return call.user_agent.split("/")[0].strip() or "unknown"


def record_manager(call: Call, old: Obj | None, new: Obj) -> Obj:
    """``new`` with managedFields recording this request's writer (kept when the request
    sets managedFields itself, dropped when it sets an empty list)."""
    given = objects.dig(new, "metadata", "managedFields")
    if given == []:
        new["metadata"].pop("managedFields")
        return new
    if given is not None and given != objects.dig(old, "metadata", "managedFields"):
        return new
    rtype = call.rtype
    try:
        return patching.update_managed_fields(old, new, manager_of(call), rtype.group, rtype.kind)
    except patching.PatchError:
        return new


def _allocate(c: cluster.Cluster, call: Call, obj: Obj, old: Obj | None) -> None:
    if call.dry_run:
        return
    causes = c.allocator.allocate(obj, old)
    if causes:
        raise status.invalid("", "Service", obj["metadata"]["name"], causes)


def update(c: cluster.Cluster, call: Call) -> tuple[int, Obj]:
    """PUT on an object (or its status): 200 with the stored object."""
    call.require("update")
    rtype = call.rtype
    if call.route.name is None:
        raise status.method_not_supported(rtype.group, rtype.plural, "update")
    if call.route.subresource == "scale":
        return _update_scale(c, call)
    obj = body_object(call)
    name = obj["metadata"].get("name")
    if name != call.route.name:
        raise status.bad_request(
            f"the name of the object ({name}) does not match the name on "
            f"the URL ({call.route.name})"
        )
    with c.store.lock:
        old = c.store.get(rtype.group_resource, call.route.namespace or "", call.route.name)
        if old is None:
            raise status.not_found(rtype.group, rtype.plural, call.route.name)
        given = obj["metadata"].get("resourceVersion")
        if given and given != old["metadata"]["resourceVersion"]:
            raise status.conflict(rtype.group, rtype.plural, call.route.name, status.STALE)
        uid = obj["metadata"].get("uid")
        if uid and uid != old["metadata"]["uid"]:
            raise status.conflict(
                rtype.group,
                rtype.plural,
                call.route.name,
                f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                f"{old['metadata']['uid']}",
            )
        if not given and (rtype.custom or rtype.group_resource == cluster.CRD_RESOURCE):
            # Custom resources and CRDs allow no unconditional update.
            cause = status.field(
                "metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update"
            )
            raise status.invalid(rtype.group, rtype.kind, call.route.name, [cause])
        return commit(c, call, old, record_manager(call, old, obj))


def _update_scale(c: cluster.Cluster, call: Call) -> tuple[int, Obj]:
    """PUT of an autoscaling/v1 Scale: sets the workload's replicas, answers the new Scale."""
    rtype = call.rtype
    body = call.body
    assert call.route.name is not None
    if not isinstance(body, dict) or body.get("kind", "Scale") != "Scale":
        raise status.bad_request("the body of a scale update must be an autoscaling/v1 Scale")
    name = objects.dig(body, "metadata", "name")
    if name != call.route.name:
        raise status.bad_request(
            f"the name of the object ({name}) does not match the name on "
            f"the URL ({call.route.name})"
        )
    with c.store.lock:
        old = c.store.get(rtype.group_resource, call.route.namespace or "", call.route.name)
        if old is None:
            raise status.not_found(rtype.group, rtype.plural, call.route.name)
        given = objects.dig(body, "metadata", "resourceVersion")
        if given and given != old["metadata"]["resourceVersion"]:
            raise status.conflict(rtype.group, rtype.plural, call.route.name, status.STALE)
        new = scale.with_replicas(objects.with_type(objects.deep(old), rtype), body)
        code, stored = commit(c, call, old, record_manager(call, old, new))
        return code, scale.to_scale(stored)


def commit(c: cluster.Cluster, call: Call, old: Obj, new: Obj) -> tuple[int, Obj]:
    """Store ``new`` over the live ``old``: server fields kept, rules checked, no-ops skipped.

    The caller holds the store lock. ``new`` is a fresh dict (never a stored one).
    """
    rtype = call.rtype
    gr = rtype.group_resource
    new["apiVersion"], new["kind"] = rtype.group_version, rtype.kind
    admission.check_fields(c, call, new)
    if call.route.subresource in ("status",):
        status_part = new.get("status")
        new = objects.deep(old)
        new["apiVersion"], new["kind"] = rtype.group_version, rtype.kind
        if status_part is None:
            new.pop("status", None)
        else:
            new["status"] = status_part
    elif call.route.subresource == "finalize":
        finalizers = objects.dig(new, "spec", "finalizers") or []
        new = objects.deep(old)
        new["apiVersion"], new["kind"] = rtype.group_version, rtype.kind
        new.setdefault("spec", {})["finalizers"] = finalizers
    else:
        kinds.carry_over(rtype, old, new)
    meta = objects.meta(new)
    for key in _SERVER_META:
        if key in old["metadata"]:
            meta[key] = old["metadata"][key]
        else:
            meta.pop(key, None)
    meta["namespace" if rtype.namespaced else "name"] = old["metadata"][
        "namespace" if rtype.namespaced else "name"
    ]
    meta["resourceVersion"] = old["metadata"]["resourceVersion"]
    if objects.has_generation(rtype, new) and objects.spec_part(new) != objects.spec_part(old):
        meta["generation"] = int(old["metadata"].get("generation") or 0) + 1
    admission.check_object(call, new, old)
    if gr == cluster.CRD_RESOURCE and call.route.subresource is None:
        crds.prepare(new, old)
    if new == old:
        return 200, objects.with_type(old, rtype)
    if gr == cluster.SERVICES:
        _allocate(c, call, new, old)
    if call.dry_run:
        return 200, objects.with_type(new, rtype)
    stored = c.store.put(gr, new)
    gone = lifecycle.finish_if_released(c, gr, stored)
    return 200, objects.with_type(gone if gone is not None else stored, rtype)
