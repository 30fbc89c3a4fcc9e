"""The two controller behaviours a restore always meets: namespace defaults and garbage collection.

- Every active namespace gets a ``default`` ServiceAccount and a ``kube-root-ca.crt`` ConfigMap
  (holding the cluster's CA certificate), recreated if deleted, as the service account and
  root-CA publisher controllers do. A restore into a new namespace finds them already there.
- The garbage collector deletes an object once none of its ``ownerReferences`` resolves to a
  live owner with the same uid: when its owner is deleted (background propagation) and when an
  object is created pointing at owners that do not exist, which is what happens to a restored
  object whose owner got a new uid. Owners of kinds the server does not know are assumed alive.

Events are queued by the store listener (under the store lock) and handled by the lifecycle
worker, so both happen shortly after the change, not inside the request that caused it.
"""

from __future__ import annotations

import collections
from typing import Any

from strongroom.sandbox import catalog, objects, store

Obj = dict[str, Any]
Key = tuple[tuple[str, str], str, str]

NAMESPACES = ("", "namespaces")
SERVICE_ACCOUNTS = ("", "serviceaccounts")
CONFIG_MAPS = ("", "configmaps")
ROOT_CA = "kube-root-ca.crt"
FOREGROUND = "foregroundDeletion"


def _owner_uids(obj: Obj | None) -> set[str]:
    refs = objects.dig(obj, "metadata", "ownerReferences") or []
    return {str(r.get("uid")) for r in refs if isinstance(r, dict) and r.get("uid")}


class Controllers:
    """Queued reactions to store events (see the module docstring)."""

    def __init__(self, objects_store: store.Store, types: catalog.Catalog, ca_pem: str) -> None:
        self._store = objects_store
        self._catalog = types
        self._ca_pem = ca_pem
        self._queue: collections.deque[store.Event] = collections.deque()
        self._dependents: dict[str, set[Key]] = {}
        #: Owners being deleted in the foreground: they go once their dependents are gone.
        self.foreground: set[Key] = set()

    def observe(self, event: store.Event) -> None:
        """Index owner references and queue the event (called with the store lock held)."""
        meta = event.obj["metadata"]
        key: Key = (event.group_resource, event.namespace, meta["name"])
        before = _owner_uids(event.previous)
        after = set() if event.type == store.DELETED else _owner_uids(event.obj)
        for uid in before - after:
            self._dependents.get(uid, set()).discard(key)
        for uid in after:
            self._dependents.setdefault(uid, set()).add(key)
        self._queue.append(event)
        finalizers = meta.get("finalizers") or []
        if (
            event.type != store.DELETED
            and meta.get("deletionTimestamp")
            and (FOREGROUND in finalizers)
        ):
            self.foreground.add(key)
        else:
            self.foreground.discard(key)

    def dependents_of(self, uid: str) -> list[Key]:
        return sorted(self._dependents.get(uid, ()))

    def reindex(self) -> None:
        """Rebuild the owner index from the stored objects (after a load)."""
        self._dependents.clear()
        for _gr, namespace, obj in self._store.all_objects():
            for uid in _owner_uids(obj):
                key: Key = (_gr, namespace, obj["metadata"]["name"])
                self._dependents.setdefault(uid, set()).add(key)

    def run(self) -> list[tuple[tuple[str, str], Obj]]:
        """Handle the queued events; returns the objects to delete (the caller deletes them)."""
        doomed: list[tuple[tuple[str, str], Obj]] = []
        while self._queue:
            event = self._queue.popleft()
            self._namespace_defaults(event)
            if event.type == store.DELETED:
                uid = str(event.obj["metadata"].get("uid"))
                for gr, ns, name in list(self._dependents.pop(uid, ())):
                    dependent = self._store.get(gr, ns, name)
                    if dependent is not None and self.orphaned(dependent):
                        doomed.append((gr, dependent))
            elif _owner_uids(event.obj) and self.orphaned(event.obj):
                doomed.append((event.group_resource, event.obj))
        return doomed

    def orphaned(self, obj: Obj) -> bool:
        """Whether none of ``obj``'s owner references resolves to a live owner."""
        if obj["metadata"].get("deletionTimestamp") or not _owner_uids(obj):
            return False
        namespace = obj["metadata"].get("namespace") or ""
        for ref in obj["metadata"].get("ownerReferences") or []:
            if not isinstance(ref, dict):
                continue
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            types = self._catalog.by_kind(group, str(ref.get("kind", "")))
            if not types:
                return False
            owner = self._store.get(
                types[0].group_resource,
                namespace if types[0].namespaced else "",
                ref.get("name", ""),
            )
            if owner is not None and owner["metadata"].get("uid") == ref.get("uid"):
                return False
        return True

    def _namespace_defaults(self, event: store.Event) -> None:
        gr = event.group_resource
        if gr == NAMESPACES and event.type != store.DELETED:
            namespace = event.obj["metadata"]["name"]
        elif gr in (SERVICE_ACCOUNTS, CONFIG_MAPS) and event.type == store.DELETED:
            namespace = event.namespace
        else:
            return
        ns = self._store.get(NAMESPACES, "", namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        if self._store.get(SERVICE_ACCOUNTS, namespace, "default") is None:
            self._create(SERVICE_ACCOUNTS, "ServiceAccount", namespace, "default", {})
        if self._store.get(CONFIG_MAPS, namespace, ROOT_CA) is None:
            annotations = {
                "kubernetes.io/description": "Contains a CA bundle that can be used to verify "
                "the kube-apiserver when using internal endpoints such as the internal service "
                "IP or kubernetes.default.svc. No other usage is guaranteed across "
                "distributions of Kubernetes clusters."
            }
            self._create(
                CONFIG_MAPS,
                "ConfigMap",
                namespace,
                ROOT_CA,
                {"data": {"ca.crt": self._ca_pem}},
                annotations,
            )

    def _create(
        self,
        gr: tuple[str, str],
        kind: str,
        namespace: str,
        name: str,
        body: Obj,
        annotations: dict[str, str] | None = None,
    ) -> None:
        meta: Obj = {
            "name": name,
            "namespace": namespace,
            "uid": objects.new_uid(),
            "creationTimestamp": objects.now(),
        }
        if annotations:
            meta["annotations"] = annotations
        self._store.put(gr, {"apiVersion": "v1", "kind": kind, "metadata": meta, **body})
