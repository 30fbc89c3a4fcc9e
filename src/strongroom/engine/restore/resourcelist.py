"""The per-item results of a restore in Velero's resource-list format, one byte an item.

The resource list maps ``<apiVersion>/<Kind>`` to entries ``<namespace>/<name>(<action>)``
(``<name>(<action>)`` for cluster-scoped objects), keys sorted and entries sorted, as
Velero's restore results do (:mod:`strongroom.engine.restore.outcome`). A
:class:`ResourceList` records the action of a planned item as one byte against its row, and
the few entries that belong to no row (target namespaces the restore created) as strings.
The entries are made when the list is read (:meth:`ResourceList.view`) or stored
(:meth:`ResourceList.document`), a run of the plan at a time: the plan holds the items of
one resource and target namespace together and in name order, so the sorted entries of a key
are a merge of those runs, and memory holds one entry per run, not one per item.
"""

from __future__ import annotations

import array
import heapq
import itertools
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from strongroom.engine.restore import outcome, plannedview

#: Bytes of the stored document produced at a time.
CHUNK = 64 << 10


class _Run(NamedTuple):
    """Planned rows ``rows[start:stop]``: of one type, resource and target namespace."""

    rows: array.array[int]
    start: int
    stop: int
    namespace: str | None


class ResourceList:
    """The per-item results of one run (thread-safe), and their counts."""

    def __init__(self, plan: plannedview.Plan | None = None) -> None:
        self._plan = plan
        self._actions = bytearray(0 if plan is None else len(plan.table))
        self._extra: list[tuple[str, str]] = []
        self._counts: dict[str, int] = dict.fromkeys(outcome.ACTIONS, 0)
        self._lock = threading.Lock()

    def record(self, row: int, action: outcome.Action) -> None:
        """The action taken on the planned item of ``row``."""
        with self._lock:
            self._actions[row] = outcome.ACTIONS.index(action) + 1
            self._counts[action] += 1

    def add(
        self, api_version: str, kind: str, namespace: str | None, name: str, action: outcome.Action
    ) -> None:
        """An entry for an object that is no item of the plan."""
        with self._lock:
            entry = f"{outcome.entry_name(namespace, name)}({action})"
            self._extra.append((f"{api_version}/{kind}", entry))
            self._counts[action] += 1

    @property
    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def view(self) -> Mapping[str, list[str]]:
        """The resource list, each key's entries made when asked for."""
        return _View(self._runs())

    def to_dict(self) -> dict[str, list[str]]:
        """Velero's resource list: keys sorted, entries sorted."""
        return dict(self.view())

    def document(self) -> Iterator[bytes]:
        """The resource list as compact JSON with sorted keys, in pieces."""
        runs = self._runs()
        text: list[str] = ["{"]
        size = 0
        for number, key in enumerate(sorted(runs)):
            text.append(("," if number else "") + _json(key) + ":[")
            for index, entry in enumerate(_merged(runs[key])):
                text.append(("," if index else "") + _json(entry))
                size += len(text[-1])
                if size >= CHUNK:
                    yield "".join(text).encode("utf-8")
                    text, size = [], 0
            text.append("]")
        text.append("}")
        yield "".join(text).encode("utf-8")

    def _runs(self) -> dict[str, list[Iterable[str]]]:
        """The entries of each key, as runs of entries each in sorted order."""
        runs: dict[str, list[Iterable[str]]] = {}
        with self._lock:
            for key, entries in itertools.groupby(sorted(self._extra), key=lambda e: e[0]):
                runs.setdefault(key, []).append([entry for _, entry in entries])
        if self._plan is not None:
            table = self._plan.table
            for run in _plan_runs(self._plan):
                if any(self._actions[run.rows[i]] for i in range(run.start, run.stop)):
                    first = run.rows[run.start]
                    key = f"{table.api_version(first)}/{table.kind(first)}"
                    runs.setdefault(key, []).append(self._sorted(run))
        return runs

    def _entries(self, run: _Run) -> Iterator[str]:
        assert self._plan is not None
        for index in range(run.start, run.stop):
            row = run.rows[index]
            if not self._actions[row]:
                continue
            action = outcome.ACTIONS[self._actions[row] - 1]
            yield f"{outcome.entry_name(run.namespace, self._plan.target_name(row))}({action})"

    def _sorted(self, run: _Run) -> Iterable[str]:
        """The entries of ``run`` in sorted order: made again as they are read, unless a
        name holds a character that sorts before ``(`` and so reorders them."""
        pairs = itertools.pairwise(self._entries(run))
        if all(before <= after for before, after in pairs):
            return _Again(self, run)
        return sorted(self._entries(run))


def _plan_runs(plan: plannedview.Plan) -> Iterator[_Run]:
    """The plan cut into runs of one type, resource and target namespace."""
    table = plan.table

    def run_of(row: int) -> tuple[int, int, str | None]:
        return table.type_index(row), table.group(row)[0], plan.target_namespace(row)

    for rows in (plan.crds.rows, plan.items.rows):
        start = 0
        for (_, _, namespace), members in itertools.groupby(rows, key=run_of):
            stop = start + sum(1 for _ in members)
            yield _Run(rows, start, stop, namespace)
            start = stop


class _Again:
    """The entries of a run, made anew on each iteration."""

    def __init__(self, owner: ResourceList, run: _Run) -> None:
        self._owner = owner
        self._run = run

    def __iter__(self) -> Iterator[str]:
        return self._owner._entries(self._run)


class _View(Mapping[str, list[str]]):
    def __init__(self, runs: dict[str, list[Iterable[str]]]) -> None:
        self._runs = runs

    def __getitem__(self, key: str) -> list[str]:
        return list(_merged(self._runs[key]))

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._runs))

    def __len__(self) -> int:
        return len(self._runs)


def _merged(runs: list[Iterable[str]]) -> Iterator[str]:
    return iter(runs[0]) if len(runs) == 1 else heapq.merge(*runs)


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
