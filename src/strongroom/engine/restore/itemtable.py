"""What a restore remembers of each item of a backup: a row of small integers.

A restore plans, restores and reports on every item of a backup, and must not hold Python
objects per item to do so: a key, an entry and a planned item as dataclasses, with their
strings and dict slots, cost about 600 bytes an item, 30 MB for 50,000 items.
:class:`ItemTable` keeps one row per item in columns (:mod:`array`): the group-resource,
namespace and type (apiVersion and kind) as indexes into a table of the few distinct
strings (:class:`Strings`), the name as UTF-8 in one shared buffer. A row costs 24 bytes
plus its name; keys and names are made again when asked for.

Rows are grouped by group-resource and namespace, each group in name order: the archive
holds them so (the API server lists them so), and a group that is not is sorted once, by
:meth:`ItemTable.seal`. A key is then found by bisection within its group, and the restore
order walks groups in name order without building a key per item.
"""

from __future__ import annotations

import array
import bisect
from collections.abc import Iterator

from strongroom.engine.restore.actions import base

Group = tuple[int, int]


class Strings:
    """Distinct strings and their indexes; index 0 is ``""`` (no namespace)."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {"": 0}
        self.values: list[str] = [""]

    def index(self, value: str) -> int:
        """The index of ``value``, added when new."""
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.values)
            self.values.append(value)
        return found

    def find(self, value: str) -> int | None:
        """The index of ``value`` if it is known (never adds: safe from any thread)."""
        return self._index.get(value)


def _encode(name: str) -> bytes:
    return name.encode("utf-8", "surrogatepass")  # names from JSON may hold lone surrogates


class Keys:
    """Item keys, packed: group-resource and namespace indexes, names in one buffer."""

    def __init__(self, strings: Strings | None = None) -> None:
        self.strings = strings or Strings()
        self._resource = array.array("I")
        self._namespace = array.array("I")
        self._names = bytearray()
        self._ends = array.array("Q")

    def __len__(self) -> int:
        return len(self._ends)

    def append(self, key: base.ItemKey) -> int:
        """Add ``key``; returns its row."""
        self._resource.append(self.strings.index(key.group_resource))
        self._namespace.append(self.strings.index(key.namespace or ""))
        self._names += _encode(key.name)
        self._ends.append(len(self._names))
        return len(self._ends) - 1

    def name(self, row: int) -> str:
        start = self._ends[row - 1] if row else 0
        return self._names[start : self._ends[row]].decode("utf-8", "surrogatepass")

    def group_resource(self, row: int) -> str:
        return self.strings.values[self._resource[row]]

    def namespace(self, row: int) -> str | None:
        return self.strings.values[self._namespace[row]] or None

    def group(self, row: int) -> Group:
        """The (group-resource, namespace) indexes of ``row``."""
        return self._resource[row], self._namespace[row]

    def key(self, row: int) -> base.ItemKey:
        return base.ItemKey(self.group_resource(row), self.namespace(row), self.name(row))


class ItemTable(Keys):
    """The items of an archive, one row each, grouped for lookups (module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._type = array.array("I")
        self._types: dict[tuple[str, str], int] = {}
        self._type_values: list[tuple[str, str]] = []
        self._groups: dict[Group, array.array[int]] = {}
        self._last: dict[Group, str] = {}
        self._unsorted: set[Group] = set()

    def add(self, key: base.ItemKey, api_version: str, kind: str) -> int:
        """Add an item (each key once); returns its row."""
        row = self.append(key)
        kind_index = self._types.setdefault((api_version, kind), len(self._type_values))
        if kind_index == len(self._type_values):
            self._type_values.append((api_version, kind))
        self._type.append(kind_index)
        group = self.group(row)
        rows = self._groups.setdefault(group, array.array("I"))
        if rows and key.name < self._last[group]:
            self._unsorted.add(group)
        self._last[group] = key.name
        rows.append(row)
        return row

    def seal(self) -> None:
        """Put every group in name order; call once every row is added."""
        for group in self._unsorted:
            self._groups[group] = array.array("I", sorted(self._groups[group], key=self.name))
        self._unsorted.clear()
        self._last.clear()

    def api_version(self, row: int) -> str:
        return self._type_values[self._type[row]][0]

    def kind(self, row: int) -> str:
        return self._type_values[self._type[row]][1]

    def type_index(self, row: int) -> int:
        """The index of ``row``'s (apiVersion, kind): equal for items of one type."""
        return self._type[row]

    def find(self, key: base.ItemKey) -> int | None:
        """The row of ``key``, or None when the table does not hold it (once sealed)."""
        resource = self.strings.find(key.group_resource)
        namespace = self.strings.find(key.namespace or "")
        if resource is None or namespace is None:
            return None
        rows = self._groups.get((resource, namespace))
        if rows is None:
            return None
        at = bisect.bisect_left(rows, key.name, key=self.name)
        return rows[at] if at < len(rows) and self.name(rows[at]) == key.name else None

    def groups(self) -> Iterator[tuple[str, str | None, array.array[int]]]:
        """Each group's group-resource, namespace and rows in name order (once sealed)."""
        for (resource, namespace), rows in self._groups.items():
            yield self.strings.values[resource], self.strings.values[namespace] or None, rows
