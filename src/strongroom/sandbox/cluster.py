"""The state of one emulated cluster: objects, resource types, allocations, and what ties them.

A :class:`Cluster` reacts to its own changes through a store listener: a deleted Service
gives back its IP and ports, a created or deleted CRD registers or removes its resource, and
anything that may let a terminating object go wakes the :mod:`lifecycle` worker.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any

from strongroom.sandbox import (
    allocations,
    catalog,
    controllers,
    crds,
    kinds,
    nodes,
    objects,
    podadmission,
    routing,
    status,
    storage,
    store,
)

Obj = dict[str, Any]

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
CRD_RESOURCE = ("apiextensions.k8s.io", "customresourcedefinitions")
NAMESPACES = ("", "namespaces")
SERVICES = ("", "services")
PODS = ("", "pods")


@dataclasses.dataclass(frozen=True)
class Call:
    """One API request on a resource, parsed: the route, the query and the decoded body."""

    route: routing.ResourceRoute
    query: Mapping[str, str]
    body: Any = None
    content_type: str = "application/json"
    user_agent: str = ""
    #: Warnings for the response's ``Warning`` headers (unknown fields with Warn).
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def rtype(self) -> catalog.ResourceType:
        return self.route.rtype

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun", "") == "All"

    def require(self, verb: str) -> None:
        """405 unless the resource supports ``verb``."""
        if verb not in self.rtype.verbs:
            raise status.method_not_supported(self.rtype.group, self.rtype.plural, verb)


class Cluster:
    """Objects, resource types and allocations of one sandbox."""

    def __init__(self, history: int = 20000, ca_pem: str = "") -> None:
        """``ca_pem``: the CA certificate published in every namespace's kube-root-ca.crt."""
        self.store = store.Store(history=history)
        self.catalog = catalog.Catalog()
        self.allocator = allocations.Allocator()
        self.controllers = controllers.Controllers(self.store, self.catalog, ca_pem)
        #: Set when a terminating object may be able to go; the lifecycle worker waits on it.
        self.wake = threading.Event()
        self.store.add_listener(self._on_event)

    def seed(self, layout: nodes.Layout | None = None) -> None:
        """Create what every fresh cluster has: its four namespaces, the API service, the
        system priority classes, the default StorageClass and the nodes."""
        for name in DEFAULT_NAMESPACES:
            ns: Obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            self.create_internal(("", "v1", "namespaces"), ns)
        svc: Obj = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "clusterIP": "10.43.0.1",
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
            },
        }
        self.create_internal(("", "v1", "services"), svc)
        for priority_class in podadmission.system_priority_classes():
            self.create_internal(("scheduling.k8s.io", "v1", "priorityclasses"), priority_class)
        self.create_internal(("storage.k8s.io", "v1", "storageclasses"), storage.default_class())
        self.add_nodes(layout or nodes.Layout())

    def add_nodes(self, layout: nodes.Layout) -> None:
        """Register the layout's nodes that are not there yet (after a load, too)."""
        for index, name in enumerate(layout.names()):
            if self.store.get(nodes.NODES, "", name) is None:
                self.create_internal(("", "v1", "nodes"), nodes.node(name, index))

    def create_internal(self, gvr: tuple[str, str, str], obj: Obj) -> Obj:
        """Create an object as the server itself does (no request, no validation, status kept)."""
        rtype = self.catalog.lookup(*gvr)
        assert rtype is not None
        meta = obj["metadata"]
        meta.setdefault("uid", objects.new_uid())
        meta.setdefault("creationTimestamp", objects.now())
        given_status = obj.get("status")
        kinds.prepare_create(rtype, obj)
        if given_status is not None:
            obj["status"] = given_status  # the server's own objects come with their status
        with self.store.lock:
            if rtype.group_resource == SERVICES:
                self.allocator.allocate(obj, None)
            return self.store.put(rtype.group_resource, obj)

    def rebuild(self) -> None:
        """Recompute registrations and allocations from the stored objects (after a load)."""
        _, services = self.store.items(SERVICES, None)
        self.allocator.rebuild(services)
        _, definitions = self.store.items(CRD_RESOURCE, None)
        for crd in definitions:
            crds.register(self.catalog, crd)
        self.controllers.reindex()
        self.wake.set()

    def _on_event(self, event: store.Event) -> None:
        gr = event.group_resource
        self.controllers.observe(event)
        self.wake.set()
        if gr == SERVICES and event.type == store.DELETED and event.previous is not None:
            self.allocator.release(event.previous)
        if gr == CRD_RESOURCE:
            if event.type == store.DELETED:
                crds.unregister(self.catalog, event.obj)
            else:
                crds.register(self.catalog, event.obj)

    def namespace_gate(self, rtype: catalog.ResourceType, namespace: str, name: str) -> None:
        """404 if ``namespace`` does not exist, 403 if it is terminating (for creates)."""
        ns = self.store.get(NAMESPACES, "", namespace)
        if ns is None:
            raise status.not_found("", "namespaces", namespace)
        if objects.dig(ns, "metadata", "deletionTimestamp"):
            raise status.forbidden(
                rtype.group,
                rtype.plural,
                name,
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )
