"""Running a restore: a backup of a repository into a cluster (Velero's restore algorithm).

::

    outcome = restorer.run(kube, repo, spec, clock=clock.SystemClock())

1. The backup is loaded and **authenticated whole** (``Backup.verify``: every object's digest,
   binding and AEAD) before anything else; an integrity failure raises and the cluster is
   not touched.
2. The planning pass reads the archive once more (any malformed content raises here, still
   before the cluster is touched) and returns the plan (:mod:`planner`); the bodies of the
   planned items wait in a :class:`~bodystore.BodyStore`, encrypted (items only pulled in
   by others cost one more read of the archive). Memory holds a few bytes per item and the
   bodies of the items in flight, whatever the size of the backup.
3. A dry run stops here: each planned item is compared with the cluster (``create``,
   ``exists-identical``, ``exists-different``) and nothing is written, to the cluster or the
   repository.
4. Otherwise the restore's name is claimed in the repository, then CRDs are restored and
   waited for until Established, discovery is refreshed, and every other item follows in
   priority order, each body taken from the store as its item is handed out. Items of one
   resource are restored by up to ``workers`` threads at a time (the order between
   resources is kept; the client's rate limit still applies), with at most
   ``2 * workers`` handed to the pool at once; a dry run compares likewise.
5. The log, results and resource list are stored beside the backup (the resource list
   made as it is stored, never whole in memory) and the restore's manifest is committed
   with its phase: ``Completed``, ``PartiallyFailed`` (any error) or ``Failed``. A fatal
   error (the API server unreachable, the body store changed under the run) is recorded as
   ``Failed`` and then raised again.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from typing import Any

from strongroom import clock as clock_mod
from strongroom import errors as root_errors
from strongroom.archive import compress, reader
from strongroom.engine import logs, results
from strongroom.engine.podvolumes import objects as podobjects
from strongroom.engine.podvolumes import restores
from strongroom.engine.restore import (
    bodystore,
    items,
    namespaces,
    ordering,
    outcome,
    planner,
    resourcelist,
    sanitize,
    spec,
    steps,
)
from strongroom.engine.restore.actions import base, registry
from strongroom.engine.volumes import snapshots
from strongroom.kube import client
from strongroom.kube import errors as kube_errors
from strongroom.repository import backups, documents
from strongroom.repository import repo as repo_mod

DEFAULT_RESOURCE_TIMEOUT = 600.0
#: Items of one resource restored at a time (the client's rate limit still applies).
DEFAULT_WORKERS = 8
#: Items handed to the pool ahead of the ones finishing, per worker (a run of 40k items
#: submitted at once held 40k futures: 35 MB at 50k objects).
QUEUED_PER_WORKER = 2


@dataclasses.dataclass(frozen=True)
class Volumes:
    """How pod volume data comes back: the location the node agents open (their name for
    it), their namespace, the restore helper's image, and how long to wait for them."""

    location: str = ""
    namespace: str = podobjects.DEFAULT_NAMESPACE
    image: str = restores.DEFAULT_IMAGE
    timeout: float = 4 * 3600.0
    #: ``progress(done, total, bytes written)`` while waiting for the agents.
    progress: Callable[[int, int, int], None] | None = None


@dataclasses.dataclass(frozen=True)
class _VolumeData:
    """The backup's pod volume snapshots, and what restoring them takes."""

    pod_volumes: base.PodVolumes
    repository: repo_mod.Repository
    held: list[snapshots.Held]
    volumes: Volumes


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
    resource_timeout: float = DEFAULT_RESOURCE_TIMEOUT,
    workers: int = DEFAULT_WORKERS,
    volumes: Volumes | None = None,
) -> outcome.Outcome:
    """Restore ``restore.backup_name`` into the cluster of ``kube`` (module docstring)."""
    started = clock.now()
    backup = repo.backup(restore.backup_name)
    backup.verify()
    actions = actions or registry.default()
    volumes = volumes or Volumes()
    if not volumes.location:  # the agents' name for the location: the backup's, by default
        location = str(backup.manifest.spec.get("storageLocation", ""))
        volumes = dataclasses.replace(volumes, location=location)
    held = snapshots.in_backup(backup)
    pod_volumes = _pod_volumes(held, volumes) if held else None
    with bodystore.BodyStore() as bodies:
        plan = planner.plan(
            reader.iter_items(backup.open("archive")),
            restore,
            kube.discovery.resources(),
            actions,
            bodies=bodies,
            pod_volumes=pod_volumes,
        )
        if planner.missing(plan, bodies):
            planner.fill(plan, reader.iter_items(backup.open("archive")), bodies)
        data = None if pod_volumes is None else _VolumeData(pod_volumes, repo, held, volumes)
        state = _Run(kube, backup, restore, plan, actions, clock, progress, bodies, data)
        return _execute(state, repo, started, clock, resource_timeout, workers)


def _pod_volumes(held: list[snapshots.Held], volumes: Volumes) -> base.PodVolumes:
    by_pod = {key: tuple(str(h.entry.get("volume")) for h in group)
              for key, group in restores.by_pod(held).items()}  # fmt: skip
    claims = frozenset(
        (str(h.entry.get("namespace")), str(h.entry.get("pvc"))) for h in held if h.entry.get("pvc")
    )
    return base.PodVolumes(by_pod, claims, documents.new_id(), volumes.image)


def _execute(
    state: _Run,
    repo: repo_mod.Repository,
    started: datetime.datetime,
    clock: clock_mod.Clock,
    resource_timeout: float,
    workers: int,
) -> outcome.Outcome:
    """Steps 3 to 5 of the module docstring."""
    restore = state.restore
    if restore.dry_run:
        state.execute(resource_timeout, workers)
        return state.outcome()
    try:
        writer = repo.begin_restore(state.backup, restore.name)
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
        bodies: bodystore.BodyStore,
        volume_data: _VolumeData | None = None,
    ) -> None:
        self.kube, self.backup, self.restore, self.plan = kube, backup, restore, plan
        self.volume_data = volume_data
        self.created_pods: list[tuple[str, str]] = []
        self.volumes_restored = 0
        self.progress = progress
        self.bodies = bodies
        self.results = results.Results()
        self.log = logs.RunLog(clock, results=self.results)
        self.resources = resourcelist.ResourceList(plan)
        self.steps = steps.Steps(plan) if restore.dry_run else None
        self.done = 0
        self.failed = False
        self.pool: futures.ThreadPoolExecutor | None = None
        self.queued = 0
        pod_volumes = None if volume_data is None else volume_data.pod_volumes
        context = planner.action_context(restore, plan.is_planned, pod_volumes)
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
            self.steps,
            bytearray(len(plan.table)),
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
        if self.created_pods and self.volume_data is not None and not self.restore.dry_run:
            self._restore_volumes(self.volume_data)
        self.log.info(f"restore done: {self.done} items processed")

    def _restore_volumes(self, data: _VolumeData) -> None:
        """Hand the restored pods' volumes to the node agents, wait, record the outcome."""
        repo, volumes = data.repository, data.volumes
        groups = restores.by_pod(data.held)
        mapping = self.restore.namespace_mappings
        wanted = {(mapping.get(ns, ns), pod): groups[(ns, pod)]
                  for ns, pod in self.created_pods if (ns, pod) in groups}  # fmt: skip
        asked = restores.Request(self.kube, repo, restore=self.restore.name,
                                 location=volumes.location, namespace=volumes.namespace,
                                 marker=data.pod_volumes.marker)  # fmt: skip
        asked.ask(wanted, volumes.timeout)
        asked.wait(volumes.timeout, volumes.progress)
        for message in asked.outcome.errors:
            self.log.error(message)
        count = len(asked.outcome.restored)
        self.log.info(f"{count} of {sum(map(len, wanted.values()))} pod volumes restored")
        self.volumes_restored = count

    def _phase(self, planned: Iterable[planner.PlannedItem]) -> list[str]:
        """Restore ``planned`` in order; the names of the CRDs created or updated."""
        changed: list[str] = []
        for _, run in itertools.groupby(planned, key=lambda p: p.key.group_resource):
            for item, action in self._restore_run(run):
                if item.key.group_resource == ordering.CRDS and action in ("created", "updated"):
                    changed.append(item.key.name)
                if item.key.group_resource == "pods" and action == "created":
                    self.created_pods.append((item.key.namespace or "", item.key.name))
                self.done += 1
                if self.progress is not None:
                    event = ProgressEvent(self.done, self.plan.total, str(item.key), action)
                    self.progress(event)
        return changed

    def _restore_run(
        self, run: Iterator[planner.PlannedItem]
    ) -> Iterator[tuple[planner.PlannedItem, str]]:
        """Restore items of one resource, concurrently when there is a pool; (item, action)
        pairs in the order they finish. Progress is reported from the calling thread, which
        also takes each body from the store as it hands its item out."""
        head = list(itertools.islice(run, 2))
        waiting = itertools.chain(head, run)
        if self.pool is None or len(head) == 1:
            for item in waiting:
                yield item, self.items.restore_item(item, self.bodies.get(item.row))
            return
        pool = self.pool
        pending: dict[futures.Future[str], planner.PlannedItem] = {}

        def submit(item: planner.PlannedItem) -> None:
            body = self.bodies.get(item.row)
            pending[pool.submit(self.items.restore_item, item, body)] = item

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
        if self.steps is not None:
            counts, plan = self.steps.counts(), self.steps.view()
        else:
            counts, plan = self.resources.counts, ()
        return outcome.Outcome(
            name=self.restore.name,
            phase=self.phase(),
            counts=counts,
            warnings=self.results.view("warnings"),
            errors=self.results.view("errors"),
            resources=self.resources.view(),
            dry_run=self.restore.dry_run,
            plan=plan,
        )


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
    writer.put("results", compress.compress_stream(state.results.document()))
    writer.put("resources", compress.compress_stream(state.resources.document()))
    writer.commit(state.restore.to_dict(), status)
