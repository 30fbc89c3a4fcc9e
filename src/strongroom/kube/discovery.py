"""Which resources the API server serves: core and every group (CRDs included).

Each group contributes its resources at the group's preferred version; subresources
(``pods/log``) are skipped. The catalogue is an immutable snapshot taken on first use and
replaced by :meth:`Discovery.refresh` (e.g. after creating a CRD). A group whose discovery
fails (an aggregated API that is down) is left out and named, with the error, in
:attr:`Snapshot.failures`: its resources are unknown, not absent. A group that answers 404 was
removed after ``/apis`` listed it (a CRD deleted meanwhile) and is simply not served.
"""

from __future__ import annotations

import dataclasses
import threading
import urllib.parse
from concurrent import futures
from typing import Any, Protocol

from strongroom.kube import errors

DISCOVERY_WORKERS = 8


class PathGetter(Protocol):
    """GETs an API path and returns the decoded JSON (rate limited and retried)."""

    def get_path(self, path: str) -> Any:
        """The JSON at ``path``; raises a KubeError."""


@dataclasses.dataclass(frozen=True)
class APIResource:
    """One served resource at one version, as discovery describes it."""

    name: str
    group: str
    version: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()
    singular_name: str = ""

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, else ``group/version``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """Velero's name for it: ``configmaps``, ``deployments.apps``."""
        return f"{self.name}.{self.group}" if self.group else self.name

    def supports(self, *verbs: str) -> bool:
        return all(v in self.verbs for v in verbs)

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The URL path of the collection, or of one object when ``name`` is given.

        ``namespace`` is ignored for cluster-scoped resources; a namespaced resource
        without one gives the all-namespaces collection.
        """
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{_quote(namespace)}"
        base += f"/{self.name}"
        return f"{base}/{_quote(name)}" if name else base


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


@dataclasses.dataclass(frozen=True)
class GroupFailure:
    """A group whose resources could not be discovered, and the one-line reason."""

    group: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """What discovery returned at one moment."""

    resources: tuple[APIResource, ...]
    failures: tuple[GroupFailure, ...] = ()

    @property
    def failed_groups(self) -> tuple[str, ...]:
        return tuple(f.group for f in self.failures)


class Discovery:
    """The served resources of one API server, fetched lazily, refreshed on request."""

    def __init__(self, getter: PathGetter) -> None:
        self._getter = getter
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        """The current catalogue, fetched on first use."""
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self._fetch()
            return self._snapshot

    def refresh(self) -> Snapshot:
        """Fetch the catalogue again (after CRDs were added or removed)."""
        fresh = self._fetch()
        with self._lock:
            self._snapshot = fresh
        return fresh

    def resources(self) -> tuple[APIResource, ...]:
        """Every served resource at its group's preferred version; core first."""
        return self.snapshot().resources

    def find(self, name: str) -> APIResource:
        """Resolve a plural, singular, short name or kind, optionally ``.group``-qualified.

        ``deployments.apps``, ``deploy``, ``Deployment``, ``cm``, ``configmaps`` all work;
        an unqualified name prefers the core group, then the first group served.
        """
        found = lookup(self.resources(), name)
        if found is None:
            raise errors.UnknownResource(f"resource {name!r}: not served by the API server")
        return found

    def _fetch(self) -> Snapshot:
        core_versions = _strs(_as_dict(self._getter.get_path("/api")).get("versions")) or ("v1",)
        targets = [("", core_versions[0], f"/api/{core_versions[0]}")]
        targets += group_targets(self._getter.get_path("/apis"))
        results: list[APIResource] = []
        failed: list[GroupFailure] = []
        with futures.ThreadPoolExecutor(DISCOVERY_WORKERS) as pool:
            for listed in pool.map(self._group_resources, targets):
                if isinstance(listed, GroupFailure):
                    failed.append(listed)
                else:
                    results.extend(listed)
        return Snapshot(tuple(results), tuple(failed))

    def _group_resources(self, target: tuple[str, str, str]) -> list[APIResource] | GroupFailure:
        group, version, path = target
        try:
            body = self._getter.get_path(path)
        except errors.NotFound:
            if not group:
                raise
            return []  # removed since /apis listed it
        except (errors.ApiError, errors.ApiUnreachable) as exc:
            if not group:
                raise
            return GroupFailure(group, str(exc))
        return resources_from(group, version, body)


def group_targets(group_list: Any) -> list[tuple[str, str, str]]:
    """(group, preferred version, path) for each group of an ``APIGroupList``."""
    targets = []
    groups = _as_dict(group_list).get("groups")
    for group in groups if isinstance(groups, list) else []:
        entry = _as_dict(group)
        name = entry.get("name")
        preferred = _as_dict(entry.get("preferredVersion")).get("version")
        versions = entry.get("versions")
        if not preferred and isinstance(versions, list) and versions:
            preferred = _as_dict(versions[0]).get("version")
        if isinstance(name, str) and name and isinstance(preferred, str) and preferred:
            targets.append((name, preferred, f"/apis/{name}/{preferred}"))
    return targets


def _as_dict(body: Any) -> dict[str, Any]:
    return body if isinstance(body, dict) else {}


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _top_level(body: Any) -> list[dict[str, Any]]:
    raw = _as_dict(body).get("resources")
    return [
        r
        for r in (raw if isinstance(raw, list) else [])
        if isinstance(r, dict) and isinstance(r.get("name"), str) and "/" not in r["name"]
    ]


def resources_from(group: str, version: str, resource_list: Any) -> list[APIResource]:
    """The top-level resources (no subresources) of an ``APIResourceList``."""
    return [parse_resource(group, version, raw) for raw in _top_level(resource_list)]


def parse_resource(group: str, version: str, raw: dict[str, Any]) -> APIResource:
    """An :class:`APIResource` from one entry of an ``APIResourceList``."""
    return APIResource(
        name=str(raw["name"]),
        group=str(raw.get("group") or group),
        version=str(raw.get("version") or version),
        kind=str(raw.get("kind", "")),
        namespaced=bool(raw.get("namespaced", False)),
        verbs=_strs(raw.get("verbs")),
        short_names=_strs(raw.get("shortNames")),
        singular_name=str(raw.get("singularName") or ""),
    )


def lookup(resources: tuple[APIResource, ...], name: str) -> APIResource | None:
    """The resource ``name`` designates (see :meth:`Discovery.find`), or None."""
    wanted = name.strip()
    for res in resources:
        if wanted in (res.group_resource, f"{res.kind}.{res.group}" if res.group else ""):
            return res
    head, _, group = wanted.partition(".")
    lowered = head.lower()
    for res in resources:
        if group and res.group != group:
            continue
        names = {res.name, res.singular_name, res.kind.lower(), *res.short_names}
        if lowered in names or head == res.kind:
            return res
    return None
