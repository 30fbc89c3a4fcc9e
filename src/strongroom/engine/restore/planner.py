"""The restore plan: which items of a backup are restored, in which order (pure).

Planning reads every entry of the archive once and keeps memory bounded: one compact row per
item (:mod:`strongroom.engine.restore.itemtable`: its key, apiVersion and kind as a few
integers, never its body) plus the backed-up Namespace objects, and decides:

1. selection (:mod:`strongroom.engine.restore.filters`) of each item on its own;
2. additional items: what the restore item actions name for each item (a pod's PVCs and
   PriorityClass, a PVC's volume) and the CRD of each custom resource, pulled in when the
   backup holds them and the filters allow it (Velero's additional-item rules), transitively;
3. order: CRDs first (their own phase), then Velero's priorities (:mod:`ordering`), items of
   one resource by target namespace then name.

The plan is that order as arrays of rows; a :class:`PlannedItem` is made from its row when
the restore comes to it. The bodies of the selected items go to a
:class:`~strongroom.engine.restore.bodystore.BodyStore` during the pass, when one is given;
items only pulled in are read by :func:`fill`, which costs one more read of the archive.
"""

from __future__ import annotations

import array
import bisect
import heapq
import itertools
import json
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from strongroom.archive import layout, reader
from strongroom.engine.restore import (
    bodystore,
    filters,
    itemtable,
    nonrestorable,
    ordering,
    plannedview,
    sanitize,
    spec,
)
from strongroom.engine.restore.actions import base, registry
from strongroom.kube import discovery

PlannedItem = plannedview.PlannedItem
Problem = plannedview.Problem
Plan = plannedview.Plan
SELECTED, PULLED_IN = plannedview.SELECTED, plannedview.PULLED_IN


def action_context(
    restore: spec.RestoreSpec,
    planned: Callable[[base.ItemKey], bool],
    pod_volumes: base.PodVolumes | None = None,
) -> base.ActionContext:
    """The context actions see for ``restore``; ``planned`` tells the items of the plan."""
    return base.ActionContext(
        backup_name=restore.backup_name,
        restore_name=restore.name,
        namespace_mappings=restore.namespace_mappings,
        preserve_node_ports=restore.preserve_node_ports,
        planned=planned,
        pod_volumes=pod_volumes,
        storage_class_mappings=restore.storage_class_mappings,
    )


def item_key(path: layout.ItemPath) -> base.ItemKey:
    """The key of an archive item, its repeated parts interned (100k items, few resources)."""
    namespace = None if path.namespace is None else sys.intern(path.namespace)
    return base.ItemKey(sys.intern(path.group_resource), namespace, path.name)


class _Scanner:
    def __init__(
        self,
        selection: filters.Selection,
        actions: registry.Registry,
        restore: spec.RestoreSpec,
        store: bodystore.BodyStore | None,
        pod_volumes: base.PodVolumes | None = None,
    ) -> None:
        self.selection = selection
        self.actions = actions
        self.store = store
        self.context = action_context(restore, lambda key: False, pod_volumes)
        self.table = itemtable.ItemTable()
        self.flags = bytearray()
        #: What the actions name for each item: from ``related_from[i]`` to ``related.key(i)``.
        self.related_from = array.array("I")
        self.related = itemtable.Keys(self.table.strings)
        self.namespace_objects: dict[str, dict[str, Any]] = {}
        self.namespaces: set[str] = set()
        self.problems: list[Problem] = []

    def add(self, found: reader.ReadItem) -> None:
        if found.item is None:
            return
        key = item_key(found.item)
        if key.namespace is not None:
            self.namespaces.add(key.namespace)
        if nonrestorable.is_non_restorable(key.group_resource):
            return
        try:
            obj = json.loads(found.body)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            self.problems.append(Problem(key, f"{key}: the archive entry is not a JSON object"))
            return
        meta = base.metadata(obj)
        row = self.table.add(
            key,
            sys.intern(str(obj.get("apiVersion", ""))),
            sys.intern(str(obj.get("kind", ""))),
        )
        if key.group_resource == filters.NAMESPACES and key.namespace is None:
            self.namespace_objects[key.name] = obj
            self.namespaces.add(key.name)
        selected = self.selection.selects(
            key.group_resource, key.namespace, key.name, meta.get("labels")
        )
        self.flags.append(SELECTED if selected else 0)
        if selected and self.store is not None:
            self.store.put(row, found.body)
        if self.actions.actions_for(key.group_resource):
            out = self.actions.run(base.ActionInput(key, sanitize.strip(obj), obj, self.context))
            if out.additional_items and not out.skip:
                for needed in out.additional_items:
                    self.related_from.append(row)
                    self.related.append(needed)

    def _needs(self, row: int, crds_seen: set[str]) -> Iterator[base.ItemKey]:
        first = bisect.bisect_left(self.related_from, row)
        last = bisect.bisect_right(self.related_from, row, lo=first)
        yield from (self.related.key(link) for link in range(first, last))
        group_resource = self.table.group_resource(row)
        if "." in group_resource and group_resource not in crds_seen:
            crds_seen.add(group_resource)  # one CRD per resource: asked for once
            yield base.ItemKey(ordering.CRDS, None, group_resource)

    def closure(self) -> None:
        """Mark what the selected items need, transitively, as pulled in."""
        self.table.seal()
        crds_seen: set[str] = set()
        work: list[int] = []

        def follow(row: int) -> None:
            for needed in self._needs(row, crds_seen):
                found = self.table.find(needed)
                if found is None or self.flags[found]:
                    continue
                if self.selection.may_pull_in(needed.group_resource, needed.namespace):
                    self.flags[found] = PULLED_IN
                    work.append(found)

        for row in range(len(self.flags)):
            if self.flags[row] == SELECTED:
                follow(row)
        while work:
            follow(work.pop())


def _ordered_rows(
    table: itemtable.ItemTable, flags: bytearray, restore: spec.RestoreSpec
) -> tuple[array.array[int], array.array[int]]:
    """The planned rows in restore order: (CRDs, everything else)."""
    by_resource: dict[str, list[tuple[str, array.array[int]]]] = {}
    for group_resource, namespace, rows in table.groups():
        target = "" if namespace is None else restore.target_namespace(namespace)
        by_resource.setdefault(group_resource, []).append((target, rows))
    crds, items = array.array("I"), array.array("I")
    for group_resource in sorted(by_resource, key=ordering.sort_key):
        out = crds if group_resource == ordering.CRDS else items
        groups = sorted(by_resource[group_resource], key=lambda group: group[0])
        for _, same_target in itertools.groupby(groups, key=lambda group: group[0]):
            runs = [rows for _, rows in same_target]
            merged = runs[0] if len(runs) == 1 else heapq.merge(*runs, key=table.name)
            out.extend(row for row in merged if flags[row])
    return crds, items


def plan(
    items: Iterable[reader.ReadItem],
    restore: spec.RestoreSpec,
    served: tuple[discovery.APIResource, ...],
    actions: registry.Registry,
    *,
    bodies: bodystore.BodyStore | None = None,
    pod_volumes: base.PodVolumes | None = None,
) -> Plan:
    """The plan for ``restore`` of the archive ``items`` (one pass); the bodies of the
    selected items go to ``bodies`` when given.

    ``served`` is the target cluster's discovery, used to resolve resource names given in
    the spec. Raises SpecError subclasses for filters that cannot apply.
    """
    selection = filters.Selection.build(restore, served)
    scanner = _Scanner(selection, actions, restore, bodies, pod_volumes)
    for found in items:
        scanner.add(found)
    scanner.closure()
    crds, ordered = _ordered_rows(scanner.table, scanner.flags, restore)
    namespace_objects: Mapping[str, Mapping[str, Any]] = types.MappingProxyType(
        scanner.namespace_objects
    )
    return Plan(
        scanner.table,
        scanner.flags,
        restore,
        crds=crds,
        items=ordered,
        namespace_objects=namespace_objects,
        backup_namespaces=tuple(sorted(scanner.namespaces)),
        problems=tuple(scanner.problems),
    )


def missing(plan: Plan, bodies: bodystore.BodyStore) -> bool:
    """Whether an item of ``plan`` has no body in ``bodies`` (one that was pulled in)."""
    return any(row not in bodies for row in plan.rows())


def fill(plan: Plan, items: Iterable[reader.ReadItem], bodies: bodystore.BodyStore) -> None:
    """Put the bodies of ``plan`` still missing from ``bodies``, read from ``items``."""
    for found in items:
        if found.item is None:
            continue
        row = plan.table.find(item_key(found.item))
        if row is not None and plan.flags[row] and row not in bodies:
            bodies.put(row, found.body)
