"""Velero 1.11's scoped resource filters (``ScopeIncludesExcludes``), resolved against discovery.

Two pairs of lists replace ``includedResources``, ``excludedResources`` and
``includeClusterResources`` when given (:attr:`..spec.BackupSpec.scoped_filters`):

* namespace-scoped resources: every one unless excluded; an include list (other than ``*``)
  narrows them to its entries; ``*`` in the excludes drops them all;
* cluster-scoped resources: those named in the include list, or all with ``*``, minus the
  excluded ones. With neither list given they are listed only for a full-cluster backup
  (every namespace, every namespace-scoped resource), as in auto mode; an exclude list alone
  thus lists none but namespaces (``--exclude-cluster-scoped-resources=storageclasses`` on a
  full-cluster backup takes other cluster-scoped items only as related ones). Namespaces are
  kept whatever the include list says, unless excluded (``namespaces`` or ``*``).

Related items (a claim's volume, a pod's PriorityClass, a service account's RBAC) follow
Velero's item checks: a cluster-scoped one is dropped only when its resource is excluded, a
namespaced one when its resource is not included.

Entries name resources as the old lists do (:func:`strongroom.kube.discovery.lookup`). One
that names no served resource, or one of the other scope, is ignored with a warning, and the
list still counts as given: it never widens to "everything" (Velero drops an entry of the
other scope silently, which can turn ``--include-cluster-scoped-resources=pods`` into all
cluster-scoped resources).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from strongroom.kube import discovery

NAMESPACES = "namespaces"


@dataclasses.dataclass(frozen=True)
class ScopeList:
    """One scope's include and exclude entries as given, and the group-resources they name."""

    include_entries: tuple[str, ...] = ()
    exclude_entries: tuple[str, ...] = ()
    includes: frozenset[str] = frozenset()
    excludes: frozenset[str] = frozenset()

    @property
    def given(self) -> bool:
        return bool(self.include_entries or self.exclude_entries)

    @property
    def everything(self) -> bool:
        """Nothing excluded and nothing (or ``*``) included: Velero's IncludeEverything."""
        return not self.exclude_entries and set(self.include_entries) <= {"*"}

    def excluded(self, group_resource: str) -> bool:
        return "*" in self.exclude_entries or group_resource in self.excludes

    def included(self, group_resource: str, *, by_default: bool) -> bool:
        """Not excluded, and named (or ``*``) in the includes; ``by_default`` without any."""
        if self.excluded(group_resource):
            return False
        if not self.include_entries:
            return by_default
        return "*" in self.include_entries or group_resource in self.includes


@dataclasses.dataclass(frozen=True)
class ScopedFilter:
    """Both scopes' lists; the namespace filter is applied by the caller."""

    namespaced: ScopeList
    cluster: ScopeList

    @classmethod
    def build(
        cls,
        resources: tuple[discovery.APIResource, ...],
        namespaced: tuple[Iterable[str], Iterable[str]],
        cluster: tuple[Iterable[str], Iterable[str]],
    ) -> tuple[ScopedFilter, list[str]]:
        """The filter from (includes, excludes) per scope, and warnings about entries
        ignored (naming no served resource, or one of the other scope)."""
        warnings: list[str] = []

        def resolve(entries: tuple[str, ...], is_namespaced: bool) -> frozenset[str]:
            found = set()
            for entry in (e for e in entries if e != "*"):
                res = discovery.lookup(resources, entry)
                if res is None:
                    warnings.append(f"resource {entry!r} is not served by the API server; ignored")
                elif res.namespaced != is_namespaced:
                    actual = "namespace-scoped" if res.namespaced else "cluster-scoped"
                    wanted = "namespace-scoped" if is_namespaced else "cluster-scoped"
                    warnings.append(
                        f"resource {entry!r} is {actual}; ignored in the {wanted} filter"
                    )
                else:
                    found.add(res.group_resource)
            return frozenset(found)

        def scope(lists: tuple[Iterable[str], Iterable[str]], is_namespaced: bool) -> ScopeList:
            inc, exc = tuple(lists[0]), tuple(lists[1])
            return ScopeList(inc, exc, resolve(inc, is_namespaced), resolve(exc, is_namespaced))

        cluster_list = scope(cluster, False)  # first: its warnings come first
        return cls(scope(namespaced, True), cluster_list), warnings

    def lists(self, res: discovery.APIResource, *, all_namespaces: bool) -> bool:
        """Whether ``res`` is listed directly (``ScopeIncludesExcludes.ShouldInclude``)."""
        gr = res.group_resource
        if res.namespaced:
            return self.namespaced.included(gr, by_default=True)
        if self.cluster.excluded(gr):
            return False
        if not self.cluster.given and all_namespaces and self.namespaced.everything:
            return True
        return gr == NAMESPACES or self.cluster.included(gr, by_default=False)

    def keeps_namespaces(self) -> bool:
        """Whether Namespace objects are taken: unless ``namespaces`` or ``*`` is excluded."""
        return not self.cluster.excluded(NAMESPACES)

    def takes_related(self, group_resource: str, namespaced: bool) -> bool:
        """Whether a related item of ``group_resource`` passes Velero's item checks."""
        if namespaced:
            return self.namespaced.included(group_resource, by_default=True)
        return group_resource == NAMESPACES or not self.cluster.excluded(group_resource)
