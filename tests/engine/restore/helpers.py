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
) -> list[tuple[str, str | None, str]]:
    """Back up ``resources`` (in ``namespaces``, or everywhere) plus ``extra`` raw items
    (group-resource, namespace, object); returns the archived keys."""
    wanted = list(namespaces) if namespaces is not None else None
    items: list[writer.Item] = []
    for ref in resources:
        res = kube.resource(ref)
        for obj in kube.list(res):
            meta = obj.get("metadata", {})
            ns = meta.get("namespace") if res.namespaced else None
            if res.namespaced and wanted is not None and ns not in wanted:
                continue
            if res.name == "namespaces" and wanted is not None and meta.get("name") not in wanted:
                continue
            items.append(_item(res.group_resource, ns, dict(obj)))
    for group_resource, ns, obj in extra:
        items.append(_item(group_resource, ns, obj))
    write_backup(repo, name, items)
    return [(i.group_resource, i.namespace, i.name) for i in items]


def _item(group_resource: str, namespace: str | None, obj: Obj) -> writer.Item:
    body = json.dumps(obj, separators=(",", ":")).encode()
    return writer.Item(
        group_resource, namespace, obj["metadata"]["name"], body, secret=group_resource == "secrets"
    )


def write_backup(repo: repo_mod.Repository, name: str, items: list[writer.Item]) -> None:
    backup = repo.begin_backup(name)
    backup.put("archive", writer.ArchiveWriter().iter_bytes(items))
    backup.put("resources", [compress.compress_document(b"{}")])
    backup.commit({"includedNamespaces": ["*"]}, {"phase": "Completed"})


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
