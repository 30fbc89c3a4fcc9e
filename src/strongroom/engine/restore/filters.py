"""Which items of a backup a restore selects (Velero's restore selection rules).

- Namespaces: included patterns (globs; empty or ``*`` means all) minus excluded ones,
  matched against the item's backed-up namespace; Namespace objects by their name.
- Resources: included names (empty or ``*`` means all) minus excluded ones, minus the
  never-restored ones. Names are resolved through the target cluster's discovery (``deploy``,
  ``Deployment``, ``deployments.apps``); a name discovery does not know (a custom resource
  whose definition is still to be restored) matches a group-resource or its plural.
- Cluster-scoped items: ``include_cluster_resources`` True restores them, False none, None
  only when every namespace is included. Namespace objects follow the namespace rules instead.
- Labels: the label selector, or any of the OR selectors, evaluated on the item's labels.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from strongroom.engine.backup import globs, selectors
from strongroom.engine.restore import errors, labelsel, nonrestorable, spec
from strongroom.kube import discovery

NAMESPACES = "namespaces"


@dataclasses.dataclass(frozen=True)
class Names:
    """Resource names given by a user: resolved group-resources, and names discovery did not
    know, which match a group-resource equal to them or whose plural they are."""

    exact: frozenset[str] = frozenset()
    loose: frozenset[str] = frozenset()

    @classmethod
    def resolve(cls, patterns: Iterable[str], served: tuple[discovery.APIResource, ...]) -> Names:
        exact: set[str] = set()
        loose: set[str] = set()
        for pattern in patterns:
            found = discovery.lookup(served, pattern) if pattern != "*" else None
            if found is not None:
                exact.add(found.group_resource)
            else:
                loose.add(pattern.strip().lower())
        return cls(frozenset(exact), frozenset(loose))

    def __bool__(self) -> bool:
        return bool(self.exact or self.loose)

    def __contains__(self, group_resource: object) -> bool:
        if not isinstance(group_resource, str):
            return False
        return (
            group_resource in self.exact
            or group_resource in self.loose
            or group_resource.partition(".")[0] in self.loose
        )


@dataclasses.dataclass(frozen=True)
class ResourceFilter:
    """Included and excluded resources, resolved."""

    included: Names
    excluded: Names

    @classmethod
    def build(
        cls, restore: spec.RestoreSpec, served: tuple[discovery.APIResource, ...]
    ) -> ResourceFilter:
        included = Names.resolve(restore.included_resources, served)
        for group_resource in included.exact | included.loose:
            if nonrestorable.is_non_restorable(group_resource):
                raise errors.NonRestorableError(
                    f"resource {group_resource!r} cannot be restored; remove it from the "
                    "included resources"
                )
        return cls(included, Names.resolve(restore.excluded_resources, served))

    def allows(self, group_resource: str) -> bool:
        """Whether items of ``group_resource`` may be restored (selected or pulled in)."""
        if nonrestorable.is_non_restorable(group_resource) or group_resource in self.excluded:
            return False
        return not self.included or "*" in self.included.loose or group_resource in self.included


@dataclasses.dataclass(frozen=True)
class NamespaceFilter:
    included: tuple[globs.Pattern, ...]
    excluded: tuple[globs.Pattern, ...]

    @classmethod
    def build(cls, restore: spec.RestoreSpec) -> NamespaceFilter:
        def compiled(patterns: Iterable[str]) -> tuple[globs.Pattern, ...]:
            return tuple(globs.compile_pattern(p) for p in patterns if p != "*")

        try:
            return cls(compiled(restore.included_namespaces), compiled(restore.excluded_namespaces))
        except globs.PatternError as exc:
            raise errors.SpecError(str(exc)) from exc

    def allows(self, namespace: str) -> bool:
        if any(p.matches(namespace) for p in self.excluded):
            return False
        return not self.included or any(p.matches(namespace) for p in self.included)


@dataclasses.dataclass(frozen=True)
class Selection:
    """Every rule of one restore, ready to test items (see the module docstring)."""

    restore: spec.RestoreSpec
    resources: ResourceFilter
    namespaces: NamespaceFilter
    label_selectors: tuple[selectors.Selector, ...]

    @classmethod
    def build(
        cls, restore: spec.RestoreSpec, served: tuple[discovery.APIResource, ...]
    ) -> Selection:
        texts = (
            [restore.label_selector]
            if restore.label_selector is not None
            else list(restore.or_label_selectors)
        )
        return cls(
            restore,
            ResourceFilter.build(restore, served),
            NamespaceFilter.build(restore),
            tuple(labelsel.parse(t) for t in texts),
        )

    def labels_match(self, labels: Mapping[str, str] | None) -> bool:
        return not self.label_selectors or any(s.matches(labels) for s in self.label_selectors)

    def scope_allows(self, group_resource: str, namespace: str | None, name: str) -> bool:
        """The resource, namespace and cluster-scope rules for an item (labels aside)."""
        if not self.resources.allows(group_resource):
            return False
        if group_resource == NAMESPACES and namespace is None:
            return self.namespaces.allows(name)
        if namespace is not None:
            return self.namespaces.allows(namespace)
        cluster = self.restore.include_cluster_resources
        return cluster is True or (cluster is None and self.restore.all_namespaces)

    def selects(
        self,
        group_resource: str,
        namespace: str | None,
        name: str,
        labels: Mapping[str, str] | None,
    ) -> bool:
        """Whether the restore selects an item by itself."""
        return self.scope_allows(group_resource, namespace, name) and self.labels_match(labels)

    def may_pull_in(self, group_resource: str, namespace: str | None) -> bool:
        """Whether an item another restored item needs is restored with it (Velero's rules
        for additional items: its resource and namespace not excluded, and cluster-scoped
        items unless cluster resources are excluded outright)."""
        if not self.resources.allows(group_resource):
            return False
        if namespace is not None:
            return self.namespaces.allows(namespace)
        return self.restore.include_cluster_resources is not False
