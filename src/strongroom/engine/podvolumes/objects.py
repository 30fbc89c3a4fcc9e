"""The PodVolumeBackup object (docs/node-agent.md): its definition, its shape, its names.

Strongroom's own API group, ``strongroom.io/v1``. The client creates one per pod volume; the
agent of ``spec.node`` writes its status. Both read it as the cluster gave it, so the helpers
here check shapes and never trust a field they did not validate.
"""

from __future__ import annotations

import re
from typing import Any

from strongroom.kube import discovery

GROUP = "strongroom.io"
VERSION = "v1"
KIND = "PodVolumeBackup"
PLURAL = "podvolumebackups"
RESTORE_KIND = "PodVolumeRestore"
RESTORE_PLURAL = "podvolumerestores"
RESTORE_NAME = "strongroom.io/restore-name"
DEFAULT_NAMESPACE = "strongroom"
BACKUP_NAME = "strongroom.io/backup-name"
BACKUP_ID = "strongroom.io/backup-id"
NODE = "strongroom.io/node"
PVC_UID = "strongroom.io/pvc-uid"
NEW, IN_PROGRESS, COMPLETED, FAILED = "New", "InProgress", "Completed", "Failed"
DONE = (COMPLETED, FAILED)


def _resource(plural: str, kind: str) -> discovery.APIResource:
    """The resource as discovery would describe it once its definition is installed."""
    verbs = ("create", "delete", "get", "list", "patch", "update", "watch")
    return discovery.APIResource(
        name=plural, group=GROUP, version=VERSION, kind=kind, namespaced=True, verbs=verbs,
        singular_name=kind.lower(),
    )  # fmt: skip


RESOURCE = _resource(PLURAL, KIND)
RESTORE_RESOURCE = _resource(RESTORE_PLURAL, RESTORE_KIND)

_UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


def is_uid(text: object) -> bool:
    return isinstance(text, str) and _UID.fullmatch(text) is not None


def is_label(text: object) -> bool:
    return isinstance(text, str) and _LABEL.fullmatch(text) is not None and ".." not in text


def is_subdomain(text: object) -> bool:
    return isinstance(text, str) and _SUBDOMAIN.fullmatch(text) is not None and ".." not in text


def _object(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props}


def definitions() -> list[dict[str, Any]]:
    """The CustomResourceDefinitions (what ``strongroom install`` applies)."""
    return [definition(), definition(restore=True)]


def definition(*, restore: bool = False) -> dict[str, Any]:
    """The PodVolumeBackup (or PodVolumeRestore) CustomResourceDefinition."""
    text = {"type": "string"}
    number = {"type": "integer", "format": "int64"}
    fields: dict[str, Any] = {
        "node": text,
        "pod": _object({"namespace": text, "name": text, "uid": text}),
        "volume": text,
        "backupStorageLocation": text,
        "backup": _object({"name": text, "id": text, "epoch": number, "recipient": text}),
        "tags": {"type": "object", "additionalProperties": text},
    }
    if restore:
        fields.update(snapshotID=text, marker=text, grantSecret=text, sourceNamespace=text)
        del fields["tags"]
    spec = {
        "type": "object",
        "required": ["node", "pod", "volume", "backupStorageLocation", "backup"],
        "properties": fields,
    }
    kind, plural = (RESTORE_KIND, RESTORE_PLURAL) if restore else (KIND, PLURAL)
    status = {
        "type": "object",
        "properties": {
            "phase": {"type": "string", "enum": [NEW, IN_PROGRESS, COMPLETED, FAILED]},
            "path": text,
            "snapshotID": text,
            "startTimestamp": {"type": "string", "format": "date-time"},
            "completionTimestamp": {"type": "string", "format": "date-time"},
            "progress": _object({"totalBytes": number, "bytesDone": number}),
            "message": text,
            "report": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    columns = [
        {"name": "Status", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Created", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        {"name": "Namespace", "type": "string", "jsonPath": ".spec.pod.namespace"},
        {"name": "Pod", "type": "string", "jsonPath": ".spec.pod.name"},
        {"name": "Volume", "type": "string", "jsonPath": ".spec.volume"},
        {"name": "Bytes Done", "type": "integer", "jsonPath": ".status.progress.bytesDone"},
        {"name": "Node", "type": "string", "jsonPath": ".spec.node"},
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{GROUP}",
            "labels": {"app.kubernetes.io/name": "strongroom"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "categories": ["strongroom"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": spec, "status": status},
                        }
                    },  # fmt: skip
                }
            ],
        },
    }


def request(
    *,
    namespace: str,
    backup: dict[str, Any],
    location: str,
    pod: dict[str, str],
    volume: str,
    node: str,
    pvc: dict[str, str] | None,
) -> dict[str, Any]:
    """A new PodVolumeBackup for ``volume`` of ``pod`` (``pvc``: its claim's name and uid)."""
    labels = {BACKUP_NAME: backup["name"], BACKUP_ID: backup["id"], NODE: node}
    tags = {"namespace": pod["namespace"], "pod": pod["name"], "volume": volume}
    if pvc is not None:
        labels[PVC_UID] = pvc["uid"]
        tags["pvc"] = pvc["name"]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {
            "generateName": f"{backup['name'][:57]}-",
            "namespace": namespace,
            "labels": labels,
        },
        "spec": {
            "node": node,
            "pod": dict(pod),
            "volume": volume,
            "backupStorageLocation": location,
            "backup": dict(backup),
            "tags": tags,
        },
    }


def phase(obj: dict[str, Any]) -> str:
    found = (obj.get("status") or {}).get("phase")
    return found if found in (IN_PROGRESS, COMPLETED, FAILED) else NEW


def restore_request(
    *,
    namespace: str,
    restore: str,
    backup: dict[str, Any],
    location: str,
    pod: dict[str, str],
    volume: str,
    node: str,
    snapshot: str,
    marker: str,
    grant: str,
    source_namespace: str,
) -> dict[str, Any]:
    """A new PodVolumeRestore: snapshot ``snapshot`` into ``volume`` of ``pod``."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": RESTORE_KIND,
        "metadata": {
            "generateName": f"{restore[:57]}-",
            "namespace": namespace,
            "labels": {RESTORE_NAME: restore, BACKUP_NAME: backup["name"], NODE: node},
        },
        "spec": {
            "node": node,
            "pod": dict(pod),
            "volume": volume,
            "backupStorageLocation": location,
            "backup": dict(backup),
            "snapshotID": snapshot,
            "marker": marker,
            "grantSecret": grant,
            "sourceNamespace": source_namespace,
        },
    }
