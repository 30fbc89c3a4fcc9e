"""Deletion as a real server does it: finalizers, deletionTimestamp, terminating namespaces.

Deleting an object with finalizers only sets ``deletionTimestamp``; it goes when an update
removes the last finalizer. Deleting a namespace marks it ``Terminating``; a background worker
then deletes everything in it and, once it is empty, the namespace itself. Deleting a CRD does
the same with the CRD's objects. The worker wakes on every change that might let something go.
"""

from __future__ import annotations

import threading
from typing import Any

from strongroom.sandbox import cluster, controllers, crds, objects

Obj = dict[str, Any]
GroupResource = tuple[str, str]

_NAMESPACE_FINALIZER = "kubernetes"


def pending_finalizers(gr: GroupResource, obj: Obj) -> list[str]:
    pending = list(objects.dig(obj, "metadata", "finalizers") or [])
    if gr == cluster.NAMESPACES:
        pending += list(objects.dig(obj, "spec", "finalizers") or [])
    return pending


def request_deletion(c: cluster.Cluster, gr: GroupResource, old: Obj) -> tuple[Obj, bool]:
    """Delete ``old`` now, or mark it for deletion; returns (the object, whether it is gone).

    The caller holds the store lock.
    """
    meta = old["metadata"]
    namespace, name = meta.get("namespace") or "", meta["name"]
    if not pending_finalizers(gr, old):
        last = c.store.remove(gr, namespace, name)
        return (last if last is not None else old), True
    if meta.get("deletionTimestamp"):
        return old, False
    new = dict(old)
    new["metadata"] = dict(meta, deletionTimestamp=objects.now(), deletionGracePeriodSeconds=0)
    if gr == cluster.NAMESPACES:
        new["status"] = dict(old.get("status") or {}, phase="Terminating")
    elif gr == cluster.CRD_RESOURCE:
        status = objects.deep(old.get("status") or {})
        status.setdefault("conditions", []).append(
            {
                "type": "Terminating",
                "status": "True",
                "reason": "InstanceDeletionInProgress",
                "message": "CustomResource deletion is in progress",
                "lastTransitionTime": objects.now(),
            }
        )
        new["status"] = status
    return c.store.put(gr, new), False


def finish_if_released(c: cluster.Cluster, gr: GroupResource, obj: Obj) -> Obj | None:
    """Remove an object being deleted once nothing holds it; returns its last state if so."""
    meta = obj["metadata"]
    if not meta.get("deletionTimestamp") or pending_finalizers(gr, obj):
        return None
    return c.store.remove(gr, meta.get("namespace") or "", meta["name"])


def sweep(c: cluster.Cluster) -> None:
    """Advance every terminating namespace and CRD as far as it can go now."""
    with c.store.lock:
        collect_garbage(c)
        _drain_foreground(c)
        collect_garbage(c)
        _, namespaces = c.store.items(cluster.NAMESPACES, None)
        for ns in [n for n in namespaces if n["metadata"].get("deletionTimestamp")]:
            _drain_namespace(c, ns)
        _, definitions = c.store.items(cluster.CRD_RESOURCE, None)
        for crd in [d for d in definitions if d["metadata"].get("deletionTimestamp")]:
            _drain_crd(c, crd)


def collect_garbage(c: cluster.Cluster) -> None:
    """Run the controllers until their queue is empty, deleting what they condemn."""
    while True:
        doomed = c.controllers.run()
        if not doomed:
            return
        for gr, obj in doomed:
            meta = obj["metadata"]
            current = c.store.get(gr, meta.get("namespace") or "", meta["name"])
            if (
                current is not None
                and current["metadata"].get("uid") == meta.get("uid")
                and c.controllers.orphaned(current)
            ):
                request_deletion(c, gr, current)


def start_foreground(c: cluster.Cluster, gr: GroupResource, owner: Obj) -> Obj:
    """Give an owner with dependents the ``foregroundDeletion`` finalizer (Foreground policy)."""
    uid = str(owner["metadata"].get("uid"))
    finalizers = list(owner["metadata"].get("finalizers") or [])
    if not c.controllers.dependents_of(uid) or controllers.FOREGROUND in finalizers:
        return owner
    new = dict(owner)
    new["metadata"] = dict(owner["metadata"], finalizers=[*finalizers, controllers.FOREGROUND])
    return c.store.put(gr, new)


def _drain_foreground(c: cluster.Cluster) -> None:
    for gr, namespace, name in sorted(c.controllers.foreground):
        owner = c.store.get(gr, namespace, name)
        if owner is None:
            continue
        remaining = 0
        for dep_gr, dep_ns, dep_name in c.controllers.dependents_of(str(owner["metadata"]["uid"])):
            dependent = c.store.get(dep_gr, dep_ns, dep_name)
            if dependent is not None:
                _, gone = request_deletion(c, dep_gr, dependent)
                remaining += 0 if gone else 1
        if remaining:
            continue
        owner = c.store.get(gr, namespace, name) or owner
        finalizers = [
            f for f in owner["metadata"].get("finalizers") or [] if f != controllers.FOREGROUND
        ]
        new = dict(owner)
        new["metadata"] = dict(owner["metadata"], finalizers=finalizers)
        finish_if_released(c, gr, c.store.put(gr, new))


def orphan_dependents(c: cluster.Cluster, owner: Obj) -> None:
    """Remove the owner references to ``owner`` from its dependents (propagationPolicy Orphan)."""
    uid = owner["metadata"].get("uid")
    for gr, namespace, name in c.controllers.dependents_of(str(uid)):
        dependent = c.store.get(gr, namespace, name)
        if dependent is None:
            continue
        new = dict(dependent)
        refs = [
            r for r in dependent["metadata"].get("ownerReferences") or [] if r.get("uid") != uid
        ]
        new["metadata"] = dict(dependent["metadata"], ownerReferences=refs)
        if not refs:
            del new["metadata"]["ownerReferences"]
        c.store.put(gr, new)


def _drain_namespace(c: cluster.Cluster, ns: Obj) -> None:
    name = ns["metadata"]["name"]
    remaining = 0
    for gr in c.store.resources_in(name):
        _, items = c.store.items(gr, name)
        for obj in list(items):
            _, gone = request_deletion(c, gr, obj)
            remaining += 0 if gone else 1
    if remaining:
        return
    spec_finalizers = objects.dig(ns, "spec", "finalizers") or []
    if _NAMESPACE_FINALIZER in spec_finalizers:
        new = dict(ns)
        new["spec"] = dict(
            ns.get("spec") or {},
            finalizers=[f for f in spec_finalizers if f != _NAMESPACE_FINALIZER],
        )
        ns = c.store.put(cluster.NAMESPACES, new)
    finish_if_released(c, cluster.NAMESPACES, ns)


def _drain_crd(c: cluster.Cluster, crd: Obj) -> None:
    spec = crd.get("spec") or {}
    gr = (str(spec.get("group")), str(objects.dig(spec, "names", "plural")))
    _, items = c.store.items(gr, None)
    remaining = 0
    for obj in list(items):
        _, gone = request_deletion(c, gr, obj)
        remaining += 0 if gone else 1
    if remaining:
        return
    finalizers = crd["metadata"].get("finalizers") or []
    if crds.CLEANUP_FINALIZER in finalizers:
        new = dict(crd)
        new["metadata"] = dict(
            crd["metadata"], finalizers=[f for f in finalizers if f != crds.CLEANUP_FINALIZER]
        )
        crd = c.store.put(cluster.CRD_RESOURCE, new)
    finish_if_released(c, cluster.CRD_RESOURCE, crd)


class Worker:
    """The background thread that lets terminating namespaces and CRDs go."""

    def __init__(self, c: cluster.Cluster) -> None:
        self._cluster = c
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-lifecycle", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._cluster.wake.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._cluster.wake.wait(timeout=1.0)
            self._cluster.wake.clear()
            if self._stopped.is_set():
                return
            sweep(self._cluster)
