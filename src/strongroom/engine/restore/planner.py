"""The restore plan: which items of a backup are restored, in which order (pure).

Planning is the first of several passes over the archive and keeps memory bounded: it reads
every entry once, keeps a small :class:`Entry` per item (its key, size, apiVersion and kind,
never its body; repeated strings interned) plus the backed-up Namespace objects, and decides:

1. selection (:mod:`strongroom.engine.restore.filters`) of each item on its own;
2. additional items: what the restore item actions name for each item (a pod's PVCs and
   PriorityClass, a PVC's volume) and the CRD of each custom resource, pulled in when the
   backup holds them and the filters allow it (Velero's additional-item rules), transitively;
3. order: CRDs first (their own phase), then Velero's priorities (:mod:`ordering`), items of
   one resource by target namespace then name.

The restorer then reads bodies back by re-reading the (authenticated) archive once per
:func:`batches` slice: plaintext is never spooled to disk, and memory holds at most one
batch of bodies, whatever the size of the backup.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import sys
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from strongroom.archive import layout, reader
from strongroom.engine.restore import filters, nonrestorable, ordering, sanitize, spec
from strongroom.engine.restore.actions import base, registry
from strongroom.kube import discovery

#: Default most bytes of item bodies a restore holds in memory at once.
DEFAULT_BATCH_BYTES = 64 << 20


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One item of the archive, without its body."""

    key: base.ItemKey
    size: int
    api_version: str
    kind: str


@dataclasses.dataclass(frozen=True, slots=True)
class PlannedItem:
    """An item the restore will process; ``pulled_in`` when only another item needed it."""

    entry: Entry
    target_namespace: str | None
    pulled_in: bool = False

    @property
    def key(self) -> base.ItemKey:
        return self.entry.key


@dataclasses.dataclass(frozen=True)
class Problem:
    """An archive entry the planner could not use (its body is not a JSON object)."""

    key: base.ItemKey
    message: str


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a restore does, in order: ``crds`` (phase 1) then ``items`` (phase 2)."""

    crds: tuple[PlannedItem, ...]
    items: tuple[PlannedItem, ...]
    #: Backed-up Namespace objects by name, used to create missing target namespaces.
    namespace_objects: Mapping[str, Mapping[str, Any]]
    #: Every namespace the backup holds items in or a Namespace object of.
    backup_namespaces: tuple[str, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def total(self) -> int:
        return len(self.crds) + len(self.items)

    def planned_keys(self) -> frozenset[base.ItemKey]:
        return frozenset(p.key for p in (*self.crds, *self.items))


def action_context(
    restore: spec.RestoreSpec, planned: frozenset[base.ItemKey]
) -> base.ActionContext:
    """The context actions see for ``restore`` once the plan is known."""
    return base.ActionContext(
        backup_name=restore.backup_name,
        restore_name=restore.name,
        namespace_mappings=restore.namespace_mappings,
        preserve_node_ports=restore.preserve_node_ports,
        planned=planned.__contains__,
    )


def item_key(path: layout.ItemPath) -> base.ItemKey:
    """The key of an archive item, its repeated parts interned (100k items, few resources)."""
    namespace = None if path.namespace is None else sys.intern(path.namespace)
    return base.ItemKey(sys.intern(path.group_resource), namespace, path.name)


class _Scanner:
    def __init__(
        self, selection: filters.Selection, actions: registry.Registry, restore: spec.RestoreSpec
    ) -> None:
        self.selection = selection
        self.actions = actions
        self.context = action_context(restore, frozenset())
        self.entries: dict[base.ItemKey, Entry] = {}
        self.selected: list[base.ItemKey] = []
        self.related: dict[base.ItemKey, tuple[base.ItemKey, ...]] = {}
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
        self.entries[key] = Entry(
            key,
            len(found.body),
            sys.intern(str(obj.get("apiVersion", ""))),
            sys.intern(str(obj.get("kind", ""))),
        )
        if key.group_resource == filters.NAMESPACES and key.namespace is None:
            self.namespace_objects[key.name] = obj
            self.namespaces.add(key.name)
        if self.selection.selects(key.group_resource, key.namespace, key.name, meta.get("labels")):
            self.selected.append(key)
        if self.actions.actions_for(key.group_resource):
            out = self.actions.run(base.ActionInput(key, sanitize.strip(obj), obj, self.context))
            if out.additional_items and not out.skip:
                self.related[key] = out.additional_items

    def _needs(self, key: base.ItemKey) -> Iterable[base.ItemKey]:
        yield from self.related.get(key, ())
        if "." in key.group_resource:
            yield base.ItemKey(ordering.CRDS, None, key.group_resource)

    def closure(self) -> dict[base.ItemKey, bool]:
        """Planned keys, each with whether it was only pulled in."""
        planned = {key: False for key in self.selected}
        work = collections.deque(self.selected)
        while work:
            for needed in self._needs(work.popleft()):
                if needed in planned or needed not in self.entries:
                    continue
                if self.selection.may_pull_in(needed.group_resource, needed.namespace):
                    planned[needed] = True
                    work.append(needed)
        return planned


def _order(planned: Iterable[PlannedItem]) -> list[PlannedItem]:
    def key(p: PlannedItem) -> tuple[tuple[int, int, str], str, str]:
        return (ordering.sort_key(p.key.group_resource), p.target_namespace or "", p.key.name)

    return sorted(planned, key=key)


def plan(
    items: Iterable[reader.ReadItem],
    restore: spec.RestoreSpec,
    served: tuple[discovery.APIResource, ...],
    actions: registry.Registry,
) -> Plan:
    """The plan for ``restore`` of the archive ``items`` (one pass, bodies not kept).

    ``served`` is the target cluster's discovery, used to resolve resource names given in
    the spec. Raises SpecError subclasses for filters that cannot apply.
    """
    scanner = _Scanner(filters.Selection.build(restore, served), actions, restore)
    for found in items:
        scanner.add(found)
    planned = [
        PlannedItem(
            scanner.entries[key],
            None if key.namespace is None else restore.target_namespace(key.namespace),
            pulled_in,
        )
        for key, pulled_in in scanner.closure().items()
    ]
    crds = [p for p in planned if p.key.group_resource == ordering.CRDS]
    rest = [p for p in planned if p.key.group_resource != ordering.CRDS]
    return Plan(
        crds=tuple(_order(crds)),
        items=tuple(_order(rest)),
        namespace_objects=types.MappingProxyType(scanner.namespace_objects),
        backup_namespaces=tuple(sorted(scanner.namespaces)),
        problems=tuple(scanner.problems),
    )


def batches(
    items: Sequence[PlannedItem], budget: int = DEFAULT_BATCH_BYTES
) -> list[tuple[PlannedItem, ...]]:
    """``items`` cut, in order, into runs whose bodies total at most ``budget`` bytes (an item
    larger than that gets a run of its own). Each run costs one read of the archive."""
    found: list[tuple[PlannedItem, ...]] = []
    current: list[PlannedItem] = []
    size = 0
    for item in items:
        if current and size + item.entry.size > budget:
            found.append(tuple(current))
            current, size = [], 0
        current.append(item)
        size += item.entry.size
    if current:
        found.append(tuple(current))
    return found
