"""What a restore did: the actions per item, and the Outcome.

The resource list (:mod:`strongroom.engine.restore.resourcelist`) maps
``<apiVersion>/<Kind>`` to entries ``<namespace>/<name>(<action>)`` (``<name>(<action>)`` for
cluster-scoped objects), as Velero's restore results do, with the actions ``created``,
``updated``, ``skipped`` and ``failed``. A dry run's plan names what each item would get
instead: ``create``, ``exists-identical``, ``exists-different``, ``skip`` or ``failed``
(:class:`PlanStep`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Action = Literal["created", "updated", "skipped", "failed"]
ACTIONS: tuple[Action, ...] = ("created", "updated", "skipped", "failed")
DryAction = Literal["create", "exists-identical", "exists-different", "skip", "failed"]
Phase = Literal["Completed", "PartiallyFailed", "Failed"]


def entry_name(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


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
    plan: Sequence[PlanStep] = ()
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
