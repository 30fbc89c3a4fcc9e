"""Typed views of the raw JSON bodies the client passes around (no model classes).

Objects stay plain ``dict``s as decoded from the wire; these TypedDicts name the few fields
this layer and the engine read. Every field is optional, as the API server may omit any.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, NewType, TypedDict

ResourceVersion = NewType("ResourceVersion", str)
WatchEventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]


class OwnerReference(TypedDict, total=False):
    apiVersion: str
    kind: str
    name: str
    uid: str
    controller: bool


class ObjectMeta(TypedDict, total=False):
    name: str
    generateName: str
    namespace: str
    uid: str
    resourceVersion: str
    generation: int
    creationTimestamp: str
    deletionTimestamp: str
    labels: dict[str, str]
    annotations: dict[str, str]
    finalizers: list[str]
    ownerReferences: list[OwnerReference]
    managedFields: list[dict[str, Any]]


class KubeObject(TypedDict, total=False):
    """Any Kubernetes object: ``apiVersion``, ``kind``, ``metadata`` and the rest untyped."""

    apiVersion: str
    kind: str
    metadata: ObjectMeta
    spec: dict[str, Any]
    status: dict[str, Any]
    data: dict[str, Any]


class Condition(TypedDict, total=False):
    type: str
    status: str
    reason: str
    message: str


@dataclasses.dataclass(frozen=True)
class ListPage:
    """One page of a list: raw item dicts and the list's resourceVersion.

    Each item carries ``apiVersion`` and ``kind`` (filled in when the server left them out,
    as it does for built-in kinds). ``continue_token`` is empty on the last page.
    """

    resource: str
    namespace: str | None
    items: list[KubeObject]
    resource_version: ResourceVersion
    continue_token: str = ""
    remaining: int | None = None


@dataclasses.dataclass(frozen=True)
class WatchEvent:
    """One watch event; for BOOKMARK only ``object.metadata.resourceVersion`` is meaningful."""

    type: WatchEventType
    object: KubeObject

    @property
    def resource_version(self) -> ResourceVersion:
        return ResourceVersion(self.object.get("metadata", {}).get("resourceVersion", ""))
