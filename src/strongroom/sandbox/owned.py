"""What the workload controllers share: creating objects as an API client, owner references,
pods made from templates, and counting the ones that are ready.

Controllers create through :func:`writes.insert`, the path of a POST, so a controller's pod
meets the same defaults, validation and admission as a pod sent by kubectl (a missing service
account refuses it, and the controller reports why).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from strongroom.sandbox import cluster, objects, routing, selectors, status, store, writes

Obj = dict[str, Any]
GroupResource = tuple[str, str]

PODS = ("", "pods")
MANAGER = "kube-controller-manager"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def create(c: cluster.Cluster, gvr: tuple[str, str, str], obj: Obj) -> Obj | str:
    """Create ``obj`` as a client would; the stored object, or the API's refusal message."""
    rtype = c.catalog.lookup(*gvr)
    assert rtype is not None
    namespace = obj["metadata"].get("namespace")
    route = routing.ResourceRoute(rtype, namespace, None, None)
    call = cluster.Call(route, {"fieldManager": MANAGER}, obj, user_agent=MANAGER)
    try:
        _, stored = writes.insert(c, call, writes.record_manager(call, None, obj))
    except status.ApiError as exc:
        return exc.message
    return c.store.get(rtype.group_resource, namespace or "", stored["metadata"]["name"]) or stored


def live(objects_store: store.Store, gr: GroupResource) -> list[Obj]:
    """The objects of ``gr`` not being deleted: what a controller works on."""
    _, items = objects_store.items(gr, None)
    return [o for o in items if not o["metadata"].get("deletionTimestamp")]


def controller_ref(owner: Obj, api_version: str, kind: str) -> Obj:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controlled_by(obj: Obj, owner_uid: str) -> bool:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") and ref.get("uid") == owner_uid:
            return True
    return False


def owned(
    objects_store: store.Store,
    gr: GroupResource,
    namespace: str,
    uid: str,
    adopt: tuple[Obj, Obj] | None = None,
) -> list[Obj]:
    """The live objects of ``gr`` in ``namespace`` that ``uid`` controls, by name.

    ``adopt`` = (owner, its controller reference): objects no controller owns whose labels
    match the owner's ``spec.selector`` are adopted first, as controllers adopt orphans (a
    restore creates pods and ReplicaSets without owner references, before their owners)."""
    _, items = objects_store.items(gr, namespace)
    if adopt is not None:
        owner, ref = adopt
        selector = (owner.get("spec") or {}).get("selector")
        for item in items:
            meta = item["metadata"]
            if (
                selector
                and not meta.get("deletionTimestamp")
                and not any(r.get("controller") for r in meta.get("ownerReferences") or [])
                and selectors.matches(selector, meta.get("labels") or {})
            ):
                refs = [*(meta.get("ownerReferences") or []), ref]
                objects_store.put(gr, dict(item, metadata=dict(meta, ownerReferences=refs)))
        _, items = objects_store.items(gr, namespace)
    return sorted(
        (o for o in items if controlled_by(o, uid) and not o["metadata"].get("deletionTimestamp")),
        key=lambda o: o["metadata"]["name"],
    )


def pod_from_template(owner: Obj, template: Obj, name: str, ref: Obj) -> Obj:
    """A pod of ``template`` named ``name`` in the owner's namespace, controlled by ``ref``."""
    template = copy.deepcopy(template or {})
    meta = dict(template.get("metadata") or {})
    meta.pop("name", None)
    meta.update(name=name, namespace=owner["metadata"]["namespace"], ownerReferences=[ref])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template.get("spec", {})}


def ready(pod: Obj) -> bool:
    if objects.dig(pod, "status", "phase") != "Running":
        return False
    conditions = objects.dig(pod, "status", "conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def template_hash(template: Obj, collisions: int = 0) -> str:
    """A short stable hash of a pod template, in the alphabet Kubernetes uses for it."""
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{canonical}/{collisions}".encode())
    number = int.from_bytes(digest.digest()[:8], "big")
    out = []
    for _ in range(10):
        number, index = divmod(number, len(_SAFE))
        out.append(_SAFE[index])
    return "".join(out)


def put_status(objects_store: store.Store, gr: GroupResource, obj: Obj, new_status: Obj) -> bool:
    """Store ``obj`` with ``new_status`` if that changes it; whether it did."""
    if obj.get("status") == new_status:
        return False
    objects_store.put(gr, dict(obj, status=new_status))
    return True
