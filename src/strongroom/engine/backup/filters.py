"""Which resources, namespaces and items a backup takes: Velero's inclusion rules (§2.1–2.5).

* Namespaces: include/exclude patterns with globs; an empty include list (or ``*``) means all.
  Namespaces labelled ``strongroom.io/exclude-from-backup=true`` join the excludes.
* Resources: each include/exclude entry names one served resource by plural, singular, kind,
  short name or ``plural.group`` (resolved like kubectl, the core group first); ``*`` means all.
* Cluster-scoped resources (``includeClusterResources``): ``True`` lists all of them, ``False``
  none (related ones are dropped too), ``None`` (auto) lists them only when every namespace is
  included, while related cluster-scoped items (PVs, CRDs, RBAC, PriorityClasses) are still
  taken unless their resource is explicitly excluded. Namespaces are exempt from this rule.
* Or the scoped filters of Velero 1.11 (:mod:`.scoped`), which then replace the resource
  lists and ``includeClusterResources``.
* Never listed: volumesnapshots and volumesnapshotcontents (snapshot.storage.k8s.io), and the
  second group of a cohabiting pair (events, deployments, daemonsets, replicasets,
  networkpolicies): only the first group met is collected.
* Items: skipped when labelled ``strongroom.io/exclude-from-backup=true`` or terminating
  (``metadata.deletionTimestamp`` set).

Where this differs from Velero, on purpose: a namespace excluded by its label does not make
a full-cluster backup partial (Velero appends it to the excludes, which then drops every
cluster-scoped resource in auto mode); and an include entry naming no served resource is
ignored with a warning instead of leaving an empty include list that means "everything".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from strongroom.engine.backup import globs, scoped
from strongroom.engine.backup import spec as spec_mod
from strongroom.kube import bodies, discovery

EXCLUDE_LABEL = "strongroom.io/exclude-from-backup"
NAMESPACES = "namespaces"
CRDS = "customresourcedefinitions.apiextensions.k8s.io"
AUTO_EXCLUDED = frozenset(
    {
        "volumesnapshots.snapshot.storage.k8s.io",
        "volumesnapshotcontents.snapshot.storage.k8s.io",
    }
)
#: Resources served by two groups over the same objects; the first group met is collected.
COHABITING: Mapping[str, frozenset[str]] = {
    "events": frozenset({"", "events.k8s.io"}),
    "deployments": frozenset({"apps", "extensions"}),
    "daemonsets": frozenset({"apps", "extensions"}),
    "replicasets": frozenset({"apps", "extensions"}),
    "networkpolicies": frozenset({"networking.k8s.io", "extensions"}),
}
_FIRST_CORE = ("pods", "persistentvolumeclaims", "persistentvolumes")
_NEEDED_VERBS = ("list", "get", "create", "delete")


def excluded_by_label(obj: bodies.KubeObject) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    return labels.get(EXCLUDE_LABEL) == "true"


def terminating(obj: bodies.KubeObject) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def _is_all(patterns: tuple[str, ...]) -> bool:
    return not patterns or patterns == ("*",) or set(patterns) == {"*"}


@dataclasses.dataclass(frozen=True)
class NamespaceFilter:
    """Namespace include/exclude patterns (Velero's GlobIncludesExcludes)."""

    includes: tuple[globs.Pattern, ...]
    excludes: tuple[globs.Pattern, ...]
    #: The spec itself asks for every namespace (before exclude-labelled ones are added).
    everything: bool = True

    @classmethod
    def build(cls, includes: Iterable[str], excludes: Iterable[str]) -> NamespaceFilter:
        inc = tuple(p for p in includes if p != "*")
        exc = tuple(excludes)
        return cls(
            tuple(globs.compile_pattern(p) for p in inc),
            tuple(globs.compile_pattern(p) for p in exc),
            everything=not inc and not exc,
        )

    def with_excluded(self, names: Iterable[str]) -> NamespaceFilter:
        """This filter with the literal ``names`` excluded too (exclude-labelled namespaces)."""
        extra = tuple(globs.compile_pattern(n) for n in sorted(set(names)))
        return dataclasses.replace(self, excludes=self.excludes + extra)

    @property
    def includes_all(self) -> bool:
        """The spec includes every namespace and excludes none (Velero's IncludeEverything).

        Namespaces excluded by label do not count here: labelling one namespace must not
        drop every cluster-scoped resource from an otherwise full-cluster backup.
        """
        return self.everything

    @property
    def concrete(self) -> bool:
        """The include list names namespaces (patterns), so lists can go per namespace."""
        return bool(self.includes)

    def should_include(self, name: str) -> bool:
        if any(p.matches(name) for p in self.excludes):
            return False
        return not self.includes or any(p.matches(name) for p in self.includes)

    def literally_included(self, name: str) -> bool:
        return any(p.literal and p.text == name for p in self.includes)

    def expand(self, existing: Iterable[str]) -> list[str]:
        """The namespaces to list one by one: literal includes, and patterns matched against
        ``existing``; minus the excluded ones; sorted."""
        names = {p.text for p in self.includes if p.literal}
        names.update(n for n in existing if any(p.matches(n) for p in self.includes))
        return sorted(n for n in names if self.should_include(n))


@dataclasses.dataclass(frozen=True)
class ResourceFilter:
    """Resource include/exclude lists resolved to group-resources (``*`` or empty: all)."""

    includes: frozenset[str] | None  # None: everything
    excludes: frozenset[str]

    @classmethod
    def build(
        cls,
        resources: tuple[discovery.APIResource, ...],
        includes: Iterable[str],
        excludes: Iterable[str],
    ) -> tuple[ResourceFilter, list[str]]:
        """The filter, and the entries no served resource answers to (to warn about)."""
        unknown: list[str] = []

        def resolve(entries: Iterable[str]) -> frozenset[str]:
            found = set()
            for entry in entries:
                res = discovery.lookup(resources, entry)
                if res is None:
                    unknown.append(entry)
                else:
                    found.add(res.group_resource)
            return frozenset(found)

        inc_list = [e for e in includes if e != "*"]
        wants_all = not inc_list
        return cls(None if wants_all else resolve(inc_list), resolve(excludes)), unknown

    def should_include(self, group_resource: str) -> bool:
        if group_resource in self.excludes:
            return False
        return self.includes is None or group_resource in self.includes

    def explicitly_excluded(self, group_resource: str) -> bool:
        return group_resource in self.excludes


@dataclasses.dataclass(frozen=True)
class Filters:
    """Everything that decides what one backup collects."""

    namespaces: NamespaceFilter
    resources: ResourceFilter
    include_cluster_resources: bool | None
    #: The scoped filters; when set, ``resources`` and ``include_cluster_resources`` are unused.
    scope: scoped.ScopedFilter | None = None

    def lists_resource(self, res: discovery.APIResource) -> bool:
        """Whether ``res`` is listed directly (Velero's GlobalIncludesExcludes.ShouldInclude,
        or ScopeIncludesExcludes.ShouldInclude)."""
        gr = res.group_resource
        if gr in AUTO_EXCLUDED:
            return False
        if self.scope is not None:
            return self.scope.lists(res, all_namespaces=self.namespaces.includes_all)
        if not res.namespaced and gr != NAMESPACES:
            if self.include_cluster_resources is False:
                return False
            if self.include_cluster_resources is None and not self.namespaces.includes_all:
                return False
        return self.resources.should_include(gr)

    def takes_related(self, group_resource: str, namespace: str | None) -> bool:
        """Whether a related item pulled in by another one passes the inclusion checks."""
        if group_resource in AUTO_EXCLUDED:
            return False
        if namespace is not None and not self.namespaces.should_include(namespace):
            return False
        if self.scope is not None:
            return self.scope.takes_related(group_resource, namespace is not None)
        if namespace is None:
            if self.include_cluster_resources is False and group_resource != NAMESPACES:
                return False
            return not self.resources.explicitly_excluded(group_resource)
        return self.resources.should_include(group_resource)

    def keeps_namespaces(self) -> bool:
        """Whether Namespace objects are taken at all (their resource not excluded)."""
        if self.scope is not None:
            return self.scope.keeps_namespaces()
        return self.resources.should_include(NAMESPACES)


def resource_rules(
    resources: tuple[discovery.APIResource, ...], spec: spec_mod.BackupSpec
) -> tuple[ResourceFilter, scoped.ScopedFilter | None, list[str]]:
    """The old resource lists, or the scoped filters when ``spec`` gives those, and a warning
    for each entry ignored (naming no served resource, or one of the other scope)."""
    if not spec.scoped_filters:
        rfilter, unknown = ResourceFilter.build(
            resources, spec.included_resources, spec.excluded_resources
        )
        return (
            rfilter,
            None,
            [f"resource {e!r} is not served by the API server; ignored" for e in unknown],
        )
    scope, ignored = scoped.ScopedFilter.build(
        resources,
        namespaced=(
            spec.included_namespace_scoped_resources,
            spec.excluded_namespace_scoped_resources,
        ),
        cluster=(spec.included_cluster_scoped_resources, spec.excluded_cluster_scoped_resources),
    )
    return ResourceFilter(None, frozenset()), scope, ignored


def ordered(resources: Iterable[discovery.APIResource]) -> list[discovery.APIResource]:
    """Backup order: the core group first (pods, PVCs, PVs leading), ``extensions`` last, and
    only resources that support list, get, create and delete; cohabiting duplicates dropped."""
    usable = [r for r in resources if r.supports(*_NEEDED_VERBS)]

    def rank(res: discovery.APIResource) -> tuple[int, int]:
        if res.group == "":
            first = _FIRST_CORE.index(res.name) if res.name in _FIRST_CORE else len(_FIRST_CORE)
            return (0, first)
        return (2, 0) if res.group == "extensions" else (1, 0)

    result: list[discovery.APIResource] = []
    taken: set[str] = set()
    for res in sorted(usable, key=rank):  # stable: discovery order within a rank
        pair = COHABITING.get(res.name)
        if pair is not None and res.group in pair:
            if res.name in taken:
                continue
            taken.add(res.name)
        result.append(res)
    return result
