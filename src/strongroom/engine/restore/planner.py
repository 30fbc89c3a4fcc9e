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
batch of bodies, whatever the size of the backup. The first batch costs no second read: the
planning pass keeps (:class:`Kept`) the bodies of the items that come first in restore order,
up to a batch's budget, which is every body of a backup smaller than that.
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
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


Order = tuple[int, tuple[int, int, str], str, str]


def order(key: base.ItemKey, target_namespace: str | None) -> Order:
    """Where ``key`` comes in a restore: CRDs first (their own phase), then :func:`_order`."""
    phase = 0 if key.group_resource == ordering.CRDS else 1
    return (phase, ordering.sort_key(key.group_resource), target_namespace or "", key.name)


@dataclasses.dataclass(frozen=True, slots=True)
class _Last:
    """A heap entry that puts the item coming last in restore order on top."""

    order: Order
    key: base.ItemKey

    def __lt__(self, other: _Last) -> bool:
        return self.order > other.order


class Kept:
    """Bodies seen by the planning pass, of the items that come first in restore order, up to
    ``budget`` bytes: what the first batch needs without reading the archive again."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._heap: list[_Last] = []
        self._bodies: dict[base.ItemKey, bytes] = {}
        self._size = 0
        self._taking = False

    def offer(self, key: base.ItemKey, where: Order, body: bytes) -> None:
        """Keep ``body`` unless the kept ones all come before it and fill the budget."""
        if self._taking or len(body) > self.budget:
            return
        replaced = self._bodies.get(key)
        if replaced is None:
            heapq.heappush(self._heap, _Last(where, key))
        else:  # a name twice in the archive: the last one counts, as when read again
            self._size -= len(replaced)
        self._bodies[key] = body
        self._size += len(body)
        while self._size > self.budget:
            dropped = heapq.heappop(self._heap).key
            self._size -= len(self._bodies.pop(dropped))

    def take(self, wanted: Iterable[base.ItemKey]) -> dict[base.ItemKey, bytes]:
        """The kept bodies of ``wanted`` (no longer kept here); offers end with the first."""
        self._taking, self._heap = True, []
        found = {key: self._bodies.pop(key) for key in wanted if key in self._bodies}
        self._size -= sum(len(body) for body in found.values())
        if not self._bodies:
            self._bodies = {}  # a dict keeps the table it grew to: let it go
        return found


class _Scanner:
    def __init__(
        self,
        selection: filters.Selection,
        actions: registry.Registry,
        restore: spec.RestoreSpec,
        kept: Kept | None,
    ) -> None:
        self.selection = selection
        self.actions = actions
        self.restore = restore
        self.kept = kept
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
            if self.kept is not None:
                target = (
                    None if key.namespace is None else self.restore.target_namespace(key.namespace)
                )
                self.kept.offer(key, order(key, target), found.body)
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
    return sorted(planned, key=lambda p: order(p.key, p.target_namespace))


def plan(
    items: Iterable[reader.ReadItem],
    restore: spec.RestoreSpec,
    served: tuple[discovery.APIResource, ...],
    actions: registry.Registry,
    *,
    kept: Kept | None = None,
) -> Plan:
    """The plan for ``restore`` of the archive ``items`` (one pass); the bodies of the first
    selected items go to ``kept`` when given.

    ``served`` is the target cluster's discovery, used to resolve resource names given in
    the spec. Raises SpecError subclasses for filters that cannot apply.
    """
    scanner = _Scanner(filters.Selection.build(restore, served), actions, restore, kept)
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
