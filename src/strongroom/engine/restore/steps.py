"""What a dry run foresees for each planned item: one byte an item, plus the reasons given.

A dry run compares every planned item with the cluster and reports a
:class:`~strongroom.engine.restore.outcome.PlanStep` each; :class:`Steps` keeps the action
as one byte against the item's row, and the few reasons (a skip, a failure) as strings, and
makes the steps again, in plan order, when they are read.
"""

from __future__ import annotations

import array
import threading
from collections.abc import Iterator, Sequence
from typing import get_args, overload

from strongroom.engine.restore import outcome, plannedview

DRY_ACTIONS: tuple[outcome.DryAction, ...] = get_args(outcome.DryAction)


class Steps:
    """The dry-run action of each planned item (thread-safe)."""

    def __init__(self, plan: plannedview.Plan) -> None:
        self._plan = plan
        self._actions = bytearray(len(plan.table))
        self._reasons: dict[int, str] = {}
        self._lock = threading.Lock()

    def record(self, row: int, action: outcome.DryAction, reason: str = "") -> None:
        with self._lock:
            self._actions[row] = DRY_ACTIONS.index(action) + 1
            if reason:
                self._reasons[row] = reason

    def view(self) -> Sequence[outcome.PlanStep]:
        """The steps recorded, in plan order."""
        return _View(self, array.array("I", (r for r in self._plan.rows() if self._actions[r])))

    def counts(self) -> dict[str, int]:
        """How many items get each action, actions in the order they first come."""
        found: dict[str, int] = {}
        for row in self._plan.rows():
            if self._actions[row]:
                action = DRY_ACTIONS[self._actions[row] - 1]
                found[action] = found.get(action, 0) + 1
        return found

    def step(self, row: int) -> outcome.PlanStep:
        plan, table = self._plan, self._plan.table
        return outcome.PlanStep(
            table.group_resource(row),
            table.api_version(row),
            table.kind(row),
            plan.target_namespace(row),
            plan.target_name(row),
            DRY_ACTIONS[self._actions[row] - 1],
            self._reasons.get(row, ""),
        )


class _View(Sequence[outcome.PlanStep]):
    def __init__(self, steps: Steps, rows: array.array[int]) -> None:
        self._steps = steps
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> outcome.PlanStep: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[outcome.PlanStep]: ...

    def __getitem__(self, index: int | slice) -> outcome.PlanStep | Sequence[outcome.PlanStep]:
        if isinstance(index, slice):
            return [self._steps.step(row) for row in self._rows[index]]
        return self._steps.step(self._rows[index])

    def __iter__(self) -> Iterator[outcome.PlanStep]:
        return (self._steps.step(row) for row in self._rows)
