"""Test helpers: objects to create, and a minimal backup of what a cluster serves.

:func:`backup_from` lists the given resources of a cluster as the API server returns them
(uid, resourceVersion, status, managed fields and all) and stores them as a backup through
the repository and the archive writer, in Velero's layout.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterable
from typing import Any

from strongroom.archive import compress, writer
from strongroom.kube import bodies, client
from strongroom.repository import repo as repo_mod

Obj = dict[str, Any]


def backup_from(
    kube: client.Client,
    repo: repo_mod.Repository,
    name: str,
    resources: Iterable[str],
    namespaces: Iterable[str] | None = None,
    extra: Iterable[tuple[str, str | None, Obj]] = (),
    skip: Iterable[str] = ("kube-root-ca.crt",),
) -> list[tuple[str, str | None, str]]:
    """Back up ``resources`` (in ``namespaces``, or everywhere) plus ``extra`` raw items
    (group-resource, namespace, object); returns the archived keys. Objects named in ``skip``
    are left out (by default each cluster's own CA bundle, which differs between clusters)."""
    skipped = set(skip)
    wanted = list(namespaces) if namespaces is not None else None
    items: list[writer.Item] = []
    for ref in resources:
        res = kube.resource(ref)
        for obj in kube.list(res):
            meta = obj.get("metadata", {})
            if meta.get("name") in skipped:
                continue
            ns = meta.get("namespace") if res.namespaced else None
            if res.namespaced and wanted is not None and ns not in wanted:
                continue
            if res.name == "namespaces" and wanted is not None and meta.get("name") not in wanted:
                continue
            items.append(item(res.group_resource, ns, dict(obj)))
    for group_resource, ns, obj in extra:
        items.append(item(group_resource, ns, obj))
    write_backup(repo, name, items)
    return [(i.group_resource, i.namespace, i.name) for i in items]


def item(group_resource: str, namespace: str | None, obj: Obj) -> writer.Item:
    body = json.dumps(obj, separators=(",", ":")).encode()
    return writer.Item(
        group_resource, namespace, obj["metadata"]["name"], body, secret=group_resource == "secrets"
    )


def write_backup(
    repo: repo_mod.Repository, name: str, items: list[writer.Item], phase: str = "Completed"
) -> None:
    backup = repo.begin_backup(name)
    backup.put("archive", writer.ArchiveWriter().iter_bytes(items))
    backup.put("resources", [compress.compress_document(b"{}")])
    backup.commit({"includedNamespaces": ["*"]}, {"phase": phase})


def create(kube: client.Client, resource: str, obj: Obj) -> bodies.KubeObject:
    return kube.create(resource, typing.cast(bodies.KubeObject, obj))


def namespace(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def configmap(name: str, ns: str, data: dict[str, str] | None = None, **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "data": data if data is not None else {"key": name},
    }


def service(name: str, ns: str, *, node_port: int | None = None, **spec: Any) -> Obj:
    port: Obj = {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}
    if node_port is not None:
        port["nodePort"] = node_port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"app": name}, "ports": [port], **spec},
    }


def names(kube: client.Client, resource: str, ns: str | None = None) -> list[str]:
    return sorted(o["metadata"]["name"] for o in kube.list(resource, ns))


def inventory(kube: client.Client) -> set[tuple[str, str | None, str, str]]:
    """Every object the cluster serves: (group-resource, namespace, name, resourceVersion)."""
    found: set[tuple[str, str | None, str, str]] = set()
    for res in kube.discovery.refresh().resources:
        if not res.supports("list"):
            continue
        for obj in kube.list(res):
            meta = obj.get("metadata", {})
            found.add(
                (res.group_resource, meta.get("namespace"), meta["name"], meta["resourceVersion"])
            )
    return found


def run_restore(
    kube: client.Client, repo: repo_mod.Repository, **fields: Any
) -> tuple[Any, list[Any]]:
    """Run a restore named ``r1`` of backup ``b1`` (unless given); the outcome and the
    progress events."""
    from strongroom import clock
    from strongroom.engine.restore import restorer, spec

    events: list[Any] = []
    restore = spec.RestoreSpec(**{"name": "r1", "backup_name": "b1", **fields})
    out = restorer.run(
        kube,
        repo,
        restore,
        clock=clock.SystemClock(),
        progress=events.append,
        resource_timeout=10,
    )
    return out, events


CRD = "customresourcedefinitions.apiextensions.k8s.io"


def widget_crd() -> Obj:
    version: Obj = {"name": "v1", "served": True, "storage": True}
    version["schema"] = {
        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [version],
        },
    }


def widget(name: str, ns: str) -> Obj:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"size": 3},
    }
