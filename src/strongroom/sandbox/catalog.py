"""The resource types the sandbox serves: the built-in catalogue plus registered CRDs.

Built-in types come from ``data/k3s-discovery.json``, discovery documents captured from a real
cluster. Groups that a K3s cluster gets from CRDs or aggregated servers (Gateway API, metrics)
are left out: here they exist only when a CRD defines them. The preferred version of a group is
the first one listed.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import threading
from collections.abc import Iterable
from typing import Any

#: Groups in the capture that a real K3s cluster does not compile in.
EXCLUDED_GROUPS = frozenset({"gateway.networking.k8s.io", "metrics.k8s.io"})

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclasses.dataclass(frozen=True)
class ResourceType:
    """One resource (a plural name) in one group/version, as discovery describes it."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    #: Subresources served for this resource, e.g. ``status``, ``scale``.
    subresources: frozenset[str] = frozenset()
    #: Defined by a CustomResourceDefinition rather than compiled in.
    custom: bool = False

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> tuple[str, str]:
        """The storage key: objects are shared by every version of a group's resource."""
        return (self.group, self.plural)

    @property
    def qualified(self) -> str:
        """``plural`` or ``plural.group``, as error messages name a resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def discovery_entries(self) -> list[dict[str, Any]]:
        """The APIResource entries of this resource and its subresources."""
        main: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            main["shortNames"] = list(self.short_names)
        if self.categories:
            main["categories"] = list(self.categories)
        entries = [main]
        for sub in sorted(self.subresources):
            kind = "Scale" if sub == "scale" else self.kind
            entries.append(
                {
                    "name": f"{self.plural}/{sub}",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        return entries


def _load_builtin() -> list[ResourceType]:
    text = importlib.resources.files("strongroom.sandbox").joinpath("data/k3s-discovery.json")
    documents: list[dict[str, Any]] = json.loads(text.read_text(encoding="utf-8"))
    types: list[ResourceType] = []
    for doc in documents:
        group, _, version = str(doc["groupVersion"]).rpartition("/")
        if group in EXCLUDED_GROUPS:
            continue
        entries: list[dict[str, Any]] = doc["resources"]
        subs: dict[str, set[str]] = {}
        for entry in entries:
            base, _, sub = str(entry["name"]).partition("/")
            if sub in ("status", "scale"):
                subs.setdefault(base, set()).add(sub)
        for entry in entries:
            if "/" in entry["name"]:
                continue
            types.append(
                ResourceType(
                    group=group,
                    version=version,
                    plural=entry["name"],
                    singular=entry.get("singularName") or str(entry["kind"]).lower(),
                    kind=entry["kind"],
                    namespaced=bool(entry["namespaced"]),
                    verbs=tuple(entry.get("verbs", ())),
                    short_names=tuple(entry.get("shortNames", ())),
                    categories=tuple(entry.get("categories", ())),
                    subresources=frozenset(subs.get(entry["name"], ())),
                )
            )
    return types


class Catalog:
    """Thread-safe registry of resource types, in discovery order.

    Lookups take (group, version, plural). CRD registrations replace every version of their
    group/resource at once.
    """

    def __init__(self, builtin: Iterable[ResourceType] | None = None) -> None:
        self._lock = threading.Lock()
        self._types: list[ResourceType] = list(_load_builtin() if builtin is None else builtin)
        self._index: dict[tuple[str, str, str], ResourceType] = {}
        self._reindex()

    def _reindex(self) -> None:
        self._index = {(t.group, t.version, t.plural): t for t in self._types}

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        with self._lock:
            return self._index.get((group, version, plural))

    def group_versions(self) -> list[tuple[str, list[str]]]:
        """Every group (core group as ``""``) with its versions, preferred first."""
        with self._lock:
            order: dict[str, list[str]] = {}
            for t in self._types:
                versions = order.setdefault(t.group, [])
                if t.version not in versions:
                    versions.append(t.version)
            return list(order.items())

    def resources(self, group: str, version: str) -> list[ResourceType]:
        with self._lock:
            return [t for t in self._types if t.group == group and t.version == version]

    def versions_of(self, group: str, plural: str) -> list[ResourceType]:
        with self._lock:
            return [t for t in self._types if t.group == group and t.plural == plural]

    def by_kind(self, group: str, kind: str) -> list[ResourceType]:
        with self._lock:
            return [t for t in self._types if t.group == group and t.kind == kind]

    def is_builtin(self, group: str, plural: str) -> bool:
        with self._lock:
            return any(
                t.group == group and t.plural == plural and not t.custom for t in self._types
            )

    def register(self, types: list[ResourceType]) -> None:
        """Add or replace the custom types of one group/resource (all its versions)."""
        if not types:
            return
        key = types[0].group_resource
        with self._lock:
            kept = [t for t in self._types if not (t.custom and t.group_resource == key)]
            self._types = kept + list(types)
            self._reindex()

    def unregister(self, group: str, plural: str) -> None:
        with self._lock:
            self._types = [
                t for t in self._types if not (t.custom and t.group_resource == (group, plural))
            ]
            self._reindex()
