"""Running a restore: a backup of a repository into a cluster (Velero's restore algorithm).

::

    outcome = restorer.run(kube, repo, spec, clock=clock.SystemClock())

1. The backup is loaded and **authenticated whole** (``Backup.verify``: every object's digest,
   binding and AEAD) before anything else; an integrity failure raises and the cluster is
   not touched.
2. The planning pass reads the archive once more (any malformed content raises here, still
   before the cluster is touched) and returns the plan (:mod:`planner`).
3. A dry run stops here: each planned item is compared with the cluster (``create``,
   ``exists-identical``, ``exists-different``) and nothing is written, to the cluster or the
   repository.
4. Otherwise the restore's name is claimed in the repository, then CRDs are restored and
   waited for until Established, discovery is refreshed, and every other item follows in
   priority order, bodies read back batch by batch (:func:`planner.batches`). Items of one
   resource are restored by up to ``workers`` threads at a time (the order between
   resources is kept; the client's rate limit still applies), with at most
   ``2 * workers`` handed to the pool at once; a dry run compares likewise.
5. The log, results and resource list are stored beside the backup and the restore's
   manifest is committed with its phase: ``Completed``, ``PartiallyFailed`` (any error) or
   ``Failed``. A fatal error (the API server unreachable, the archive changed under the run)
   is recorded as ``Failed`` and then raised again.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from typing import Any

from strongroom import clock as clock_mod
from strongroom import errors as root_errors
from strongroom.archive import compress, reader
from strongroom.engine import logs, results
from strongroom.engine.restore import items, namespaces, ordering, outcome, planner, sanitize, spec
from strongroom.engine.restore.actions import base, registry
from strongroom.kube import client
from strongroom.kube import errors as kube_errors
from strongroom.repository import backups
from strongroom.repository import repo as repo_mod

DEFAULT_RESOURCE_TIMEOUT = 600.0
#: Items of one resource restored at a time (the client's rate limit still applies).
DEFAULT_WORKERS = 8
#: Items handed to the pool ahead of the ones finishing, per worker (a run of 40k items
#: submitted at once held 40k futures: 35 MB at 50k objects).
QUEUED_PER_WORKER = 2


@dataclasses.dataclass(frozen=True)
class ProgressEvent:
    """One item done: ``done`` of ``total``, what it was and what it got."""

    done: int
    total: int
    item: str
    action: str


Progress = Callable[[ProgressEvent], None]


def run(
    kube: client.Client,
    repo: repo_mod.Repository,
    restore: spec.RestoreSpec,
    *,
    clock: clock_mod.Clock,
    progress: Progress | None = None,
    actions: registry.Registry | None = None,
    batch_bytes: int = planner.DEFAULT_BATCH_BYTES,
    resource_timeout: float = DEFAULT_RESOURCE_TIMEOUT,
    workers: int = DEFAULT_WORKERS,
) -> outcome.Outcome:
    """Restore ``restore.backup_name`` into the cluster of ``kube`` (module docstring)."""
    started = clock.now()
    backup = repo.backup(restore.backup_name)
    backup.verify()
    actions = actions or registry.default()
    kept = planner.Kept(batch_bytes)
    plan = planner.plan(
        reader.iter_items(backup.open("archive")),
        restore,
        kube.discovery.resources(),
        actions,
        kept=kept,
    )
    state = _Run(kube, backup, restore, plan, actions, clock, progress, kept)
    if restore.dry_run:
        state.execute(resource_timeout, workers)
        return state.outcome()
    try:
        writer = repo.begin_restore(backup, restore.name)
    except root_errors.PermissionDeniedError as exc:  # a read-only location or identity
        return _unrecorded(state, resource_timeout, workers, str(exc))
    failure: BaseException | None = None
    try:
        state.execute(resource_timeout, workers)
    except BaseException as exc:
        failure = exc
        state.log.error(f"restore failed: {exc}")
    try:
        reason = None if failure is None else str(failure) or type(failure).__name__
        _store(writer, state, started, clock, failure=reason)
    except BaseException:
        writer.abort()  # the repository itself failed: leave no half-written restore
        if failure is None:
            raise
    if failure is not None:
        raise failure
    return state.outcome()


def _unrecorded(state: _Run, resource_timeout: float, workers: int, why: str) -> outcome.Outcome:
    """Restore into the cluster without storing the restore's records (the location does not
    take writes); the outcome says so, and nothing of it is left in storage."""
    state.log.warning(f"the restore's log and results are not stored: {why}")
    state.execute(resource_timeout, workers)
    return dataclasses.replace(state.outcome(), stored=False, not_stored_reason=why)


class _Run:
    def __init__(
        self,
        kube: client.Client,
        backup: backups.Backup,
        restore: spec.RestoreSpec,
        plan: planner.Plan,
        actions: registry.Registry,
        clock: clock_mod.Clock,
        progress: Progress | None,
        kept: planner.Kept,
    ) -> None:
        self.kube, self.backup, self.restore, self.plan = kube, backup, restore, plan
        self.progress = progress
        self.kept = kept
        self.batch_bytes = kept.budget
        self.results = results.Results()
        self.log = logs.RunLog(clock, results=self.results)
        self.resources = outcome.ResourceList()
        self.done = 0
        self.failed = False
        self.pool: futures.ThreadPoolExecutor | None = None
        self.queued = 0
        context = planner.action_context(restore, plan.planned_keys())
        labels = sanitize.restore_labels(restore.backup_name, restore.name)
        ensurer = namespaces.Ensurer(
            kube,
            backed_up=plan.namespace_objects,
            context=context,
            labels=labels,
            log=self.log,
            resources=self.resources,
            clock=clock,
        )
        self.items = items.ItemRestorer(
            kube,
            restore,
            actions,
            context,
            ensurer,
            self.log,
            self.resources,
            coming=frozenset(p.key.name for p in plan.crds),
        )

    def execute(self, resource_timeout: float, workers: int = 1) -> None:
        """Restore the plan with up to ``workers`` items of one resource at a time."""
        if workers <= 1:
            self._execute(resource_timeout)
            return
        with futures.ThreadPoolExecutor(workers, thread_name_prefix="restore") as pool:
            self.pool, self.queued = pool, QUEUED_PER_WORKER * workers
            try:
                self._execute(resource_timeout)
            finally:
                self.pool = None

    def _execute(self, resource_timeout: float) -> None:
        self.log.info(
            f"restoring {self.plan.total} items of backup {self.restore.backup_name}",
            restore=self.restore.name,
            namespaces=",".join(self.plan.backup_namespaces) or None,
        )
        backup_phase = self.backup.manifest.status.get("phase")
        if backup_phase != "Completed":
            self.log.warning(
                f"backup {self.restore.backup_name} is {backup_phase}: restoring what it holds"
            )
        for problem in self.plan.problems:
            self.log.error(problem.message, results.for_item(problem.key.namespace))
        established = self._phase(self.plan.crds)
        if established and not self.restore.dry_run:
            for name in established:
                self._wait_established(name, resource_timeout)
            self.kube.discovery.refresh()
        self._phase(self.plan.items)
        self.log.info(f"restore done: {self.done} items processed")

    def _phase(self, planned: tuple[planner.PlannedItem, ...]) -> list[str]:
        changed: list[str] = []
        for batch in planner.batches(planned, self.batch_bytes):
            bodies = self._bodies(batch)
            for run in _by_resource(batch):
                for item, action in self._restore_run(run, bodies):
                    if action in ("created", "updated"):
                        changed.append(item.key.name)
                    self.done += 1
                    if self.progress is not None:
                        event = ProgressEvent(self.done, self.plan.total, str(item.key), action)
                        self.progress(event)
        return changed

    def _restore_run(
        self, run: list[planner.PlannedItem], bodies: dict[base.ItemKey, bytes]
    ) -> Iterator[tuple[planner.PlannedItem, str]]:
        """Restore items of one resource, concurrently when there is a pool; (item, action)
        pairs in the order they finish. Progress is reported from the calling thread."""
        if self.pool is None or len(run) == 1:
            for item in run:
                yield item, self.items.restore_item(item, bodies.pop(item.key))
            return
        pool = self.pool
        waiting = iter(run)
        pending: dict[futures.Future[str], planner.PlannedItem] = {}

        def submit(item: planner.PlannedItem) -> None:
            pending[pool.submit(self.items.restore_item, item, bodies.pop(item.key))] = item

        try:
            for item in itertools.islice(waiting, self.queued):
                submit(item)
            while pending:
                done, _ = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
                for future in done:
                    following = next(waiting, None)
                    if following is not None:
                        submit(following)
                    yield pending.pop(future), future.result()
        finally:
            for future in pending:
                future.cancel()
            futures.wait(pending)

    def _bodies(self, batch: Iterable[planner.PlannedItem]) -> dict[base.ItemKey, bytes]:
        """The bodies of ``batch``: kept from the planning pass, else from one more read of
        the (re-verified) archive."""
        wanted = {p.key for p in batch}
        found = self.kept.take(wanted)
        wanted.difference_update(found)
        if not wanted:
            return found
        for entry in reader.iter_items(self.backup.open("archive")):
            if entry.item is not None:
                key = planner.item_key(entry.item)
                if key in wanted:
                    found[key] = entry.body
        return found

    def _wait_established(self, name: str, timeout: float) -> None:
        try:
            self.kube.wait_for_condition(
                ordering.CRDS, name, condition="Established", timeout=timeout
            )
        except kube_errors.ConditionTimeout as exc:
            self.log.error(str(exc), results.CLUSTER)

    def phase(self) -> outcome.Phase:
        if self.failed:
            return "Failed"
        return "PartiallyFailed" if self.results.error_count else "Completed"

    def outcome(self) -> outcome.Outcome:
        doc = self.results.to_dict()
        found = self.items.steps
        steps = tuple(found[p.key] for p in (*self.plan.crds, *self.plan.items) if p.key in found)
        counts: dict[str, int] = self.resources.counts
        if self.restore.dry_run:
            counts = {}
            for step in steps:
                counts[step.action] = counts.get(step.action, 0) + 1
        return outcome.Outcome(
            name=self.restore.name,
            phase=self.phase(),
            counts=counts,
            warnings=doc["warnings"],
            errors=doc["errors"],
            resources=self.resources.to_dict(),
            dry_run=self.restore.dry_run,
            plan=steps,
        )


def _by_resource(batch: Iterable[planner.PlannedItem]) -> list[list[planner.PlannedItem]]:
    """Consecutive items of one group-resource (the plan keeps them together)."""
    runs: list[list[planner.PlannedItem]] = []
    for item in batch:
        if runs and runs[-1][0].key.group_resource == item.key.group_resource:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _document(value: Any) -> list[bytes]:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return [compress.compress_document(text.encode("utf-8"))]


def _store(
    writer: backups.Writer,
    state: _Run,
    started: datetime.datetime,
    clock: clock_mod.Clock,
    *,
    failure: str | None = None,
) -> None:
    """Store the run's outputs and commit its manifest (the phase Failed with ``failure``)."""
    state.failed = failure is not None
    status: dict[str, Any] = {
        "phase": state.phase(),
        "startTimestamp": clock_mod.rfc3339(started),
        "completionTimestamp": clock_mod.rfc3339(clock.now()),
        "progress": {"totalItems": state.plan.total, "itemsRestored": state.done},
        "warnings": state.results.warning_count,
        "errors": state.results.error_count,
    }
    if failure is not None:
        status["failureReason"] = failure
    writer.put("log", compress.compress_stream(state.log.chunks()))
    writer.put("results", _document(state.results.to_dict()))
    writer.put("resources", _document(state.resources.to_dict()))
    writer.commit(state.restore.to_dict(), status)
