"""PATCH requests: merge, JSON, strategic merge (built-ins only) and server-side apply.

The patch formats themselves live in :mod:`patching`; this module picks one by content type,
applies it to the live object under the store lock and stores the result through
:func:`writes.commit`, so a patch meets the same rules as an update.
"""

from __future__ import annotations

from typing import Any

from strongroom.sandbox import cluster, objects, patching, scale, status, writes

Obj = dict[str, Any]
Call = cluster.Call

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
_ACCEPTED = (JSON_PATCH, MERGE, APPLY, STRATEGIC)


def patch(c: cluster.Cluster, call: Call) -> tuple[int, Obj]:
    """PATCH on an object or its status subresource."""
    call.require("patch")
    rtype = call.rtype
    if call.route.name is None:
        raise status.method_not_supported(rtype.group, rtype.plural, "patch")
    kind = call.content_type.split(";")[0].strip().lower()
    accepted = _ACCEPTED if not rtype.custom else _ACCEPTED[:3]
    if kind not in accepted:
        raise status.unsupported_media_type(kind, accepted)
    if kind == APPLY:
        return _apply(c, call)
    with c.store.lock:
        old = c.store.get(rtype.group_resource, call.route.namespace or "", call.route.name)
        if old is None:
            raise status.not_found(rtype.group, rtype.plural, call.route.name)
        current = objects.with_type(objects.deep(old), rtype)
        if call.route.subresource == "scale":
            return _scale(c, call, kind, old, current)
        new = _patched(call, kind, current)
        new_meta = objects.meta(new)
        if new_meta.get("resourceVersion") != old["metadata"]["resourceVersion"]:
            raise status.conflict(rtype.group, rtype.plural, call.route.name, status.STALE)
        if new_meta.get("name") != call.route.name:
            raise status.bad_request(
                f"the name of the object ({new_meta.get('name')}) does not "
                f"match the name on the URL ({call.route.name})"
            )
        return writes.commit(c, call, old, writes.record_manager(call, old, new))


def _scale(c: cluster.Cluster, call: Call, kind: str, old: Obj, current: Obj) -> tuple[int, Obj]:
    """PATCH of the scale subresource: the patch applies to the Scale view of the workload."""
    wanted = _patched(call, kind, scale.to_scale(old))
    given = objects.dig(wanted, "metadata", "resourceVersion")
    if given and given != old["metadata"]["resourceVersion"]:
        raise status.conflict(
            call.rtype.group, call.rtype.plural, call.route.name or "", status.STALE
        )
    new = scale.with_replicas(current, wanted)
    code, stored = writes.commit(c, call, old, writes.record_manager(call, old, new))
    return code, scale.to_scale(stored)


def _patched(call: Call, kind: str, current: Obj) -> Obj:
    rtype = call.rtype
    body = call.body
    try:
        if kind == JSON_PATCH:
            if not isinstance(body, list):
                raise status.bad_request("a JSON patch must be a list of operations")
            result = patching.apply_json_patch(current, body)
        elif not isinstance(body, dict):
            raise status.bad_request("the patch must be a JSON object")
        elif kind == MERGE:
            result = patching.apply_merge_patch(current, body)
        else:
            result = patching.apply_strategic_merge_patch(current, body, rtype.group, rtype.kind)
    except patching.PatchError as exc:
        raise status.ApiError(
            422, "Invalid", f"the server rejected our request due to an error in our request: {exc}"
        ) from exc
    if not isinstance(result, dict):
        raise status.ApiError(422, "Invalid", "the patched object is not a JSON object")
    return result


def _apply(c: cluster.Cluster, call: Call) -> tuple[int, Obj]:
    rtype = call.rtype
    assert call.route.name is not None
    manager = call.query.get("fieldManager")
    if not manager:
        raise status.bad_request("PATCH with apply content type requires a fieldManager")
    force = call.query.get("force", "").lower() in ("true", "1")
    applied = writes.body_object(call)
    for missing in ("apiVersion", "kind"):
        if not isinstance(call.body, dict) or not applied.get(missing):
            raise status.bad_request(f"{missing} must be set in an applied configuration")
    name = applied["metadata"].get("name")
    if call.route.name is None or name != call.route.name:
        raise status.bad_request(
            f"the name of the object ({name}) does not match the name on "
            f"the URL ({call.route.name})"
        )
    with c.store.lock:
        old = c.store.get(rtype.group_resource, call.route.namespace or "", call.route.name)
        live = objects.with_type(objects.deep(old), rtype) if old is not None else None
        try:
            new = patching.server_side_apply(live, applied, manager, force, rtype.group, rtype.kind)
        except patching.ApplyConflict as exc:
            raise _conflict(call, exc) from exc
        except patching.PatchError as exc:
            raise status.ApiError(422, "Invalid", str(exc), name=call.route.name) from exc
        if old is None:
            return writes.insert(c, call, new)
        given = applied["metadata"].get("resourceVersion")
        if given and given != old["metadata"]["resourceVersion"]:
            raise status.conflict(rtype.group, rtype.plural, call.route.name, status.STALE)
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        return writes.commit(c, call, old, new)


def _conflict(call: Call, exc: patching.ApplyConflict) -> status.ApiError:
    rtype = call.rtype
    who = ", ".join(f'"{m}"' for m in exc.managers)
    causes = tuple(
        status.Cause("FieldManagerConflict", f"conflict with {who}", f) for f in exc.fields
    )
    return status.ApiError(
        409,
        "Conflict",
        str(exc),
        name=call.route.name,
        group=rtype.group,
        kind=rtype.plural,
        causes=causes,
    )
