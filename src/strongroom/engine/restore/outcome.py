"""What a restore did: per-item results in Velero's resource-list format, and the Outcome.

The resource list maps ``<apiVersion>/<Kind>`` to entries ``<namespace>/<name>(<action>)``
(``<name>(<action>)`` for cluster-scoped objects), as Velero's restore results do, with the
actions ``created``, ``updated``, ``skipped`` and ``failed``. A dry run's plan names what each
item would get instead: ``create``, ``exists-identical``, ``exists-different``, ``skip`` or
``failed``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any, Literal

Action = Literal["created", "updated", "skipped", "failed"]
ACTIONS: tuple[Action, ...] = ("created", "updated", "skipped", "failed")
DryAction = Literal["create", "exists-identical", "exists-different", "skip", "failed"]
Phase = Literal["Completed", "PartiallyFailed", "Failed"]


def entry_name(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


class ResourceList:
    """The per-item results of one run (thread-safe), and their counts."""

    def __init__(self) -> None:
        self._entries: dict[str, list[str]] = {}
        self._counts: dict[str, int] = dict.fromkeys(ACTIONS, 0)
        self._lock = threading.Lock()

    def add(
        self, api_version: str, kind: str, namespace: str | None, name: str, action: Action
    ) -> None:
        with self._lock:
            group = self._entries.setdefault(f"{api_version}/{kind}", [])
            group.append(f"{entry_name(namespace, name)}({action})")
            self._counts[action] += 1

    @property
    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def to_dict(self) -> dict[str, list[str]]:
        """Velero's resource list: keys sorted, entries sorted."""
        with self._lock:
            return {key: sorted(self._entries[key]) for key in sorted(self._entries)}


@dataclasses.dataclass(frozen=True)
class PlanStep:
    """One item of a dry run: where it would go and what it would get."""

    group_resource: str
    api_version: str
    kind: str
    namespace: str | None
    name: str
    action: DryAction
    reason: str = ""

    def __str__(self) -> str:
        text = (
            f"{self.api_version}/{self.kind} {entry_name(self.namespace, self.name)}: {self.action}"
        )
        return f"{text} ({self.reason})" if self.reason else text


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The result of :func:`strongroom.engine.restore.restorer.run`.

    ``counts`` has one entry per action (``created``... for a run, the dry-run actions for a
    dry run); ``warnings`` and ``errors`` are results documents by scope
    (``{"strongroom": [...], "cluster": [...], "namespaces": {ns: [...]}}``); ``resources``
    the resource list; ``plan`` the steps of a dry run (empty otherwise).
    """

    name: str
    phase: Phase
    counts: Mapping[str, int]
    warnings: Mapping[str, Any]
    errors: Mapping[str, Any]
    resources: Mapping[str, list[str]]
    dry_run: bool = False
    plan: tuple[PlanStep, ...] = ()
    #: False when the location took no writes: the restore ran, its records were not kept.
    stored: bool = True
    not_stored_reason: str = ""

    @property
    def warning_count(self) -> int:
        return _count(self.warnings)

    @property
    def error_count(self) -> int:
        return _count(self.errors)


def _count(result: Mapping[str, Any]) -> int:
    namespaces = result.get("namespaces") or {}
    return (
        len(result.get("strongroom") or ())
        + len(result.get("cluster") or ())
        + sum(len(v) for v in namespaces.values())
    )
