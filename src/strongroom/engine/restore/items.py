"""Restoring one item (Velero's ``restoreItem``): actions, namespace mapping, labels, create,
and the existing-object rules of :mod:`existing`. In a dry run nothing is written: the item
is only compared with what the cluster holds.

API errors of one item are recorded (errors in the item's target namespace, or ``cluster``)
and never stop the run; only errors of the connection itself (unreachable server, refused
credentials) propagate, as the run cannot go on without them.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any

from strongroom.engine import logs, results
from strongroom.engine.restore import (
    errors,
    existing,
    modifiers,
    namespaces,
    outcome,
    planner,
    resourcelist,
    sanitize,
    spec,
    steps,
)
from strongroom.engine.restore.actions import base, registry
from strongroom.kube import bodies, client, discovery
from strongroom.kube import errors as kube_errors

FATAL = errors.FATAL_KUBE_ERRORS


@dataclasses.dataclass
class ItemRestorer:
    """Restores planned items one by one (see the module docstring)."""

    kube: client.Client
    restore: spec.RestoreSpec
    actions: registry.Registry
    context: base.ActionContext
    ensurer: namespaces.Ensurer
    log: logs.RunLog
    resources: resourcelist.ResourceList
    #: A dry run's steps (filled from several threads); None for a run.
    steps: steps.Steps | None
    #: One byte per row of the plan's table: set once the item's restore began.
    started: bytearray
    #: Group-resources a planned CRD will serve (a dry run cannot look them up yet).
    coming: frozenset[str] = frozenset()
    _served: tuple[object, dict[str, discovery.APIResource]] = (None, {})

    @property
    def labels(self) -> dict[str, str]:
        return sanitize.restore_labels(self.restore.backup_name, self.restore.name)

    def restore_item(self, item: planner.PlannedItem, body: bytes) -> str:
        """Process one item; returns the action taken (or, in a dry run, foreseen)."""
        if self.started[item.row]:
            return "skipped"
        self.started[item.row] = 1
        where = results.for_item(item.target_namespace)
        backup_obj = json.loads(body)
        out = self.actions.run(
            base.ActionInput(item.key, sanitize.strip(backup_obj), backup_obj, self.context)
        )
        for warning in out.warnings:
            self.log.warning(f"{item.key}: {warning}", where)
        if out.skip:
            self.log.info(f"not restoring {item.key}: {out.reason}")
            return self._record(item, "skipped", "skip", out.reason)
        desired = sanitize.with_labels(
            sanitize.in_namespace(out.item, item.target_namespace), self.labels
        )
        rules = self.restore.resource_modifiers
        if rules is not None:
            try:
                desired, applied = rules.apply(desired, item.key.group_resource)
            except modifiers.PatchFailed as exc:
                message = f"error restoring {self._name(item)}: resource modifier: {exc}"
                return self._fail(item, where, message)
            if applied:
                self.log.info(f"{item.key}: {applied} resource modifier rules applied")
        if self.restore.restores_status(item.key.group_resource) and "status" in backup_obj:
            desired["status"] = backup_obj["status"]
        try:
            return self._apply(item, desired, where)
        except FATAL:
            raise
        except kube_errors.KubeError as exc:
            return self._fail(item, where, f"error restoring {self._name(item)}: {exc}")

    def _apply(
        self, item: planner.PlannedItem, desired: dict[str, Any], where: results.Where
    ) -> str:
        res = self._resource(item)
        if res is None:
            if self.restore.dry_run and item.key.group_resource in self.coming:
                return self._record(item, "created", "create", "its CRD is restored first")
            return self._fail(
                item,
                where,
                f"error restoring {self._name(item)}: {item.key.group_resource} is "
                "not served by the target cluster",
            )
        if self._is_namespace(item) and not self.restore.dry_run:
            return self._namespace(item, where)
        if item.target_namespace is not None and not self.restore.dry_run:
            problem = self.ensurer.ensure(item.target_namespace, str(item.key.namespace))
            if problem:
                return self._fail(item, where, f"error restoring {self._name(item)}: {problem}")
        if self.restore.dry_run:
            return self._foresee(item, res, desired)
        status = desired.pop("status", None)
        try:
            created = self.kube.create(
                res, typing.cast(bodies.KubeObject, desired), item.target_namespace
            )
        except kube_errors.AlreadyExists:
            return self._existing(item, res, desired, where)
        if status is not None:
            self._restore_status(item, res, created, status, where)
        return self._record(item, "created", "create")

    def _restore_status(
        self,
        item: planner.PlannedItem,
        res: discovery.APIResource,
        created: bodies.KubeObject,
        status: Any,
        where: results.Where,
    ) -> None:
        """Put the backed-up ``.status`` on a created object (its status subresource)."""
        body = typing.cast(bodies.KubeObject, {**created, "status": status})
        try:
            self.kube.replace(res, body, item.target_namespace, subresource="status")
        except FATAL:
            raise
        except kube_errors.KubeError as exc:
            self.log.warning(f"{self._name(item)}: status not restored: {exc}", where)

    def _namespace(self, item: planner.PlannedItem, where: results.Where) -> str:
        """Namespace objects go through the ensurer: created when missing, never updated."""
        target = self._target_name(item)
        created, problem = self.ensurer.ensure_created(target, item.key.name)
        if problem:
            return self._fail(item, where, f"error restoring {self._name(item)}: {problem}")
        if created:
            return "created"  # the ensurer recorded it
        return self._record(item, "skipped", "exists-different")

    def _existing(
        self,
        item: planner.PlannedItem,
        res: discovery.APIResource,
        desired: dict[str, Any],
        where: results.Where,
    ) -> str:
        name = str(desired["metadata"]["name"])
        try:
            live = self.kube.get(res, name, item.target_namespace)
        except FATAL:
            raise
        except kube_errors.KubeError as exc:
            self.log.warning(
                f"could not retrieve in-cluster copy of {self._name(item)}: {exc}", where
            )
            return self._record(item, "skipped", "exists-different")
        decision = existing.resolve(
            self.kube,
            res,
            live,
            desired,
            labels=self.labels,
            policy=self.restore.existing_resource_policy,
        )
        for warning in decision.warnings:
            self.log.warning(warning, where)
        for error in decision.errors:
            self.log.error(error, where)
        return self._record(
            item, decision.action, "exists-identical" if decision.identical else "exists-different"
        )

    def _foresee(
        self, item: planner.PlannedItem, res: discovery.APIResource, desired: dict[str, Any]
    ) -> str:
        name = str(desired["metadata"]["name"])
        try:
            live = self.kube.get(res, name, item.target_namespace)
        except kube_errors.NotFound:
            return self._record(item, "created", "create")
        same = existing.compare(live, desired, self.labels)
        return self._record(item, "skipped", "exists-identical" if same else "exists-different")

    def _resource(self, item: planner.PlannedItem) -> discovery.APIResource | None:
        snapshot = self.kube.discovery.snapshot()
        if self._served[0] is not snapshot:
            self._served = (snapshot, {r.group_resource: r for r in snapshot.resources})
        found = self._served[1].get(item.key.group_resource)
        if found is None:
            return None
        group, _, version = item.api_version.rpartition("/")
        if version and group == found.group:
            return dataclasses.replace(found, version=version)
        return found

    @staticmethod
    def _is_namespace(item: planner.PlannedItem) -> bool:
        return item.key.group_resource == "namespaces" and item.key.namespace is None

    def _name(self, item: planner.PlannedItem) -> str:
        where = outcome.entry_name(item.target_namespace, self._target_name(item))
        return f"{item.kind} {where}"

    def _target_name(self, item: planner.PlannedItem) -> str:
        if self._is_namespace(item):
            return self.context.map_namespace(item.key.name)
        return item.key.name

    def _fail(self, item: planner.PlannedItem, where: results.Where, message: str) -> str:
        self.log.error(message, where)
        return self._record(item, "failed", "failed", message)

    def _record(
        self,
        item: planner.PlannedItem,
        action: outcome.Action,
        foreseen: outcome.DryAction,
        reason: str = "",
    ) -> str:
        if self.steps is not None:
            self.steps.record(item.row, foreseen, reason)
            return foreseen
        self.resources.record(item.row, action)
        name = outcome.entry_name(item.target_namespace, self._target_name(item))
        self.log.info(f"{action} {item.kind} {name}")
        return action
