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
DEFAULT_NAMESPACE = "strongroom"
BACKUP_NAME = "strongroom.io/backup-name"
BACKUP_ID = "strongroom.io/backup-id"
NODE = "strongroom.io/node"
PVC_UID = "strongroom.io/pvc-uid"
NEW, IN_PROGRESS, COMPLETED, FAILED = "New", "InProgress", "Completed", "Failed"
DONE = (COMPLETED, FAILED)

RESOURCE = discovery.APIResource(
    name=PLURAL,
    group=GROUP,
    version=VERSION,
    kind=KIND,
    namespaced=True,
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    singular_name="podvolumebackup",
)

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


def definition() -> dict[str, Any]:
    """The CustomResourceDefinition (what ``strongroom install`` applies)."""
    text = {"type": "string"}
    number = {"type": "integer", "format": "int64"}
    spec = {
        "type": "object",
        "required": ["node", "pod", "volume", "backupStorageLocation", "backup"],
        "properties": {
            "node": text,
            "pod": _object({"namespace": text, "name": text, "uid": text}),
            "volume": text,
            "backupStorageLocation": text,
            "backup": _object({"name": text, "id": text, "epoch": number, "recipient": text}),
            "tags": {"type": "object", "additionalProperties": text},
        },
    }
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
            "name": f"{PLURAL}.{GROUP}",
            "labels": {"app.kubernetes.io/name": "strongroom"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": "podvolumebackup",
                "categories": ["strongroom"],
            },  # fmt: skip
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
