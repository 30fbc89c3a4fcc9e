"""A restore plan as arrays of rows, and the planned items made from them on demand.

:func:`strongroom.engine.restore.planner.plan` builds a :class:`Plan`; its ``crds`` and
``items`` are sequences of :class:`PlannedItem` that hold nothing per item but a row number
(4 bytes): each item is made from the :class:`~itemtable.ItemTable` when it is asked for,
and let go once restored.
"""

from __future__ import annotations

import array
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from strongroom.engine.restore import itemtable, spec
from strongroom.engine.restore.actions import base

#: Flags of a row: selected by the restore's filters, or only pulled in by another item.
SELECTED, PULLED_IN = 1, 2


@dataclasses.dataclass(frozen=True)
class Problem:
    """An archive entry the planner could not use (its body is not a JSON object)."""

    key: base.ItemKey
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class PlannedItem:
    """An item the restore will process; ``pulled_in`` when only another item needed it."""

    row: int
    key: base.ItemKey
    target_namespace: str | None
    api_version: str
    kind: str
    pulled_in: bool = False


class PlannedItems(Sequence[PlannedItem]):
    """Planned items in restore order, made from their rows when asked for."""

    def __init__(self, plan: Plan, rows: array.array[int]) -> None:
        self._plan = plan
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> PlannedItem: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[PlannedItem]: ...

    def __getitem__(self, index: int | slice) -> PlannedItem | Sequence[PlannedItem]:
        if isinstance(index, slice):
            return [self._plan.item(row) for row in self.rows[index]]
        return self._plan.item(self.rows[index])

    def __iter__(self) -> Iterator[PlannedItem]:
        return (self._plan.item(row) for row in self.rows)


class Plan:
    """What a restore does, in order: ``crds`` (phase 1) then ``items`` (phase 2)."""

    def __init__(
        self,
        table: itemtable.ItemTable,
        flags: bytearray,
        restore: spec.RestoreSpec,
        *,
        crds: array.array[int],
        items: array.array[int],
        namespace_objects: Mapping[str, Mapping[str, Any]],
        backup_namespaces: tuple[str, ...],
        problems: tuple[Problem, ...] = (),
    ) -> None:
        self.table = table
        #: :data:`SELECTED` or :data:`PULLED_IN` for each planned row, else 0.
        self.flags = flags
        self._restore = restore
        self.crds = PlannedItems(self, crds)
        self.items = PlannedItems(self, items)
        #: Backed-up Namespace objects by name, used to create missing target namespaces.
        self.namespace_objects = namespace_objects
        #: Every namespace the backup holds items in or a Namespace object of.
        self.backup_namespaces = backup_namespaces
        self.problems = problems

    @property
    def total(self) -> int:
        return len(self.crds) + len(self.items)

    def rows(self) -> Iterator[int]:
        """Every planned row, in restore order."""
        yield from self.crds.rows
        yield from self.items.rows

    def is_planned(self, key: base.ItemKey) -> bool:
        """Whether ``key`` is an item of the plan (safe from any thread)."""
        row = self.table.find(key)
        return row is not None and self.flags[row] != 0

    def target_namespace(self, row: int) -> str | None:
        namespace = self.table.namespace(row)
        return None if namespace is None else self._restore.target_namespace(namespace)

    def target_name(self, row: int) -> str:
        """The name of ``row``'s object in the cluster (a Namespace's is mapped)."""
        name = self.table.name(row)
        if self.table.group_resource(row) == "namespaces" and self.table.namespace(row) is None:
            return self._restore.target_namespace(name)
        return name

    def item(self, row: int) -> PlannedItem:
        return PlannedItem(
            row,
            self.table.key(row),
            self.target_namespace(row),
            self.table.api_version(row),
            self.table.kind(row),
            self.flags[row] == PULLED_IN,
        )
