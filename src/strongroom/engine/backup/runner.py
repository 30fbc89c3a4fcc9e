"""Run one backup: collect from the cluster, store encrypted objects, commit the manifest.

::

    outcome = runner.run(kube, repo, spec, clock=clock.SystemClock())

The order of work (docs/format.md §2, §6): the API server's version is read first (an
unreachable cluster fails before anything is written); then the repository claims the name
(:class:`~strongroom.repository.errors.NameTaken` propagates, nothing is written); then the
archive streams from the collector through the archive writer into storage; then the pods'
volumes the spec selects are backed up by the node agents (:mod:`strongroom.engine.podvolumes`,
under a volume session held until the manifest is stored); then the log, the results and the
resource list; the manifest last, listing the volume snapshots.

Phases: ``Completed``; ``PartiallyFailed`` when an error was logged (a list or GET failed,
a pod volume could not be backed up);
``Failed`` when collection could not go on for a Kubernetes-side reason (the backup is kept,
as Velero keeps Failed backups, with ``failureReason``). Any other exception (storage, crypto,
a bug) aborts: what was written is removed, and the exception propagates.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any, Literal, Protocol

from strongroom import clock as clock_mod
from strongroom.archive import compress, writer
from strongroom.engine import logs, results
from strongroom.engine.backup import collector
from strongroom.engine.backup import spec as spec_mod
from strongroom.engine.podvolumes import objects as podobjects
from strongroom.engine.podvolumes import request, selection
from strongroom.kube import client
from strongroom.repository import backups, manifests
from strongroom.repository.volumes import keys as volkeys
from strongroom.repository.volumes import sessions
from strongroom.storage import base as storage_base

FORMAT_VERSION = "1.1.0"
Phase = Literal["Completed", "PartiallyFailed", "Failed"]
Progress = collector.Progress


class BackupTarget(Protocol):
    """Where a backup goes: a repository opened with its keyring, or by a writer credential."""

    @property
    def backend(self) -> storage_base.Backend: ...

    def begin_backup(self, name: str) -> backups.Writer: ...

    def volume_keys(self, epoch: int | None = None) -> volkeys.VolumeKeys: ...


@dataclasses.dataclass(frozen=True)
class Volumes:
    """Where the node agents take pod volume backups from, and how long to wait for them
    (Velero's default: 4 hours). Which volumes: the spec's ``defaultVolumesToFsBackup`` and
    the pods' annotations."""

    namespace: str = podobjects.DEFAULT_NAMESPACE
    timeout: float = 4 * 3600.0
    #: ``progress(done, total, bytes read)`` while waiting for the agents.
    progress: Callable[[int, int, int], None] | None = None


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a backup run produced; ``manifest`` is the committed manifest."""

    name: str
    phase: Phase
    items: int
    warnings: int
    errors: int
    manifest: manifests.Manifest
    failure_reason: str | None = None


def _document(value: Any) -> list[bytes]:
    data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return [compress.compress_document(data)]


def _source_cluster(kube: client.Client) -> dict[str, str]:
    version = kube.server_version()
    return {"gitVersion": str(version.get("gitVersion", "")), "server": kube.cluster.server}


def _phase(coll: collector.Collector, log: logs.RunLog) -> Phase:
    if coll.failure is not None:
        return "Failed"
    return "PartiallyFailed" if log.errors else "Completed"


def run(
    kube: client.Client,
    repository: BackupTarget,
    spec: spec_mod.BackupSpec,
    *,
    clock: clock_mod.Clock,
    progress: Progress | None = None,
    list_workers: int = 4,
    list_page_size: int = 500,
    volumes: Volumes | None = None,
) -> Outcome:
    """Back up what ``spec`` selects from ``kube`` into ``repository``; see the module doc.

    ``list_workers`` lists run at once, each page holding up to ``list_page_size`` objects
    (Velero's ``--client-page-size``); at most about ``3 * list_workers`` pages are in memory.
    """
    source = _source_cluster(kube)
    started = clock.now()
    volumes = volumes or Volumes()
    backup = repository.begin_backup(spec.name)
    session: sessions.Session | None = None
    try:
        found = results.Results()
        log = logs.RunLog(clock, results=found)
        log.info(f"backup {spec.name} started", cluster=source["gitVersion"])
        coll = collector.Collector(
            kube,
            spec,
            log=log,
            progress=progress,
            workers=list_workers,
            page_size=list_page_size,
        )
        archive = writer.ArchiveWriter(mtime=started)
        pods: list[dict[str, Any]] = []
        backup.put("archive", archive.iter_bytes(_tap_pods(coll.items(), pods)))
        chosen, named = selection.choose(pods, opt_out=spec.default_volumes_to_fs_backup)
        for message in named:
            log.warning(message)
        taken: list[dict[str, Any]] = []
        if chosen and coll.failure is None:
            session = sessions.Session(repository.backend, repository.volume_keys(), clock)
            session.start()
            taken = _pod_volumes(kube, repository, backup, spec, volumes, session, chosen, log)
        phase = _phase(coll, log)
        stats = archive.stats
        log.info(f"backup {spec.name} finished: {phase}, {stats.items} items")
        backup.put("log", compress.compress_stream(log.chunks()))
        backup.put("results", compress.compress_stream(found.document()))
        backup.put("resources", _document(coll.resource_list()))
        status: dict[str, Any] = {
            "phase": phase,
            "startTimestamp": clock_mod.rfc3339(started),
            "completionTimestamp": clock_mod.rfc3339(clock.now()),
            "expiration": clock_mod.rfc3339(started + spec.ttl),
            "progress": {"totalItems": coll.count, "itemsBackedUp": stats.items},
            "warnings": log.warnings,
            "errors": log.errors,
            "formatVersion": FORMAT_VERSION,
            "version": 1,
            "sourceCluster": source,
        }
        if taken:
            status["volumeSnapshots"] = taken
        if coll.failure is not None:
            status["failureReason"] = coll.failure
        manifest = backup.commit(spec.to_dict(), status)
    except BaseException:
        backup.abort()
        raise
    finally:
        if session is not None:
            session.end()
    return Outcome(
        name=spec.name,
        phase=phase,
        items=stats.items,
        warnings=log.warnings,
        errors=log.errors,
        manifest=manifest,
        failure_reason=coll.failure,
    )


def _tap_pods(items: Iterator[writer.Item], pods: list[dict[str, Any]]) -> Iterator[writer.Item]:
    """``items`` as they are, noting what volume selection needs of each pod."""
    for item in items:
        if item.group_resource == "pods":
            pods.append(request.pod_summary(item.body))
        yield item


def _pod_volumes(
    kube: client.Client,
    repository: BackupTarget,
    backup: backups.Writer,
    spec: spec_mod.BackupSpec,
    volumes: Volumes,
    session: sessions.Session,
    chosen: list[selection.Chosen],
    log: logs.RunLog,
) -> list[dict[str, Any]]:
    """Back up the chosen pod volumes through the node agents; the backup's entries."""
    asked = request.Request(
        kube,
        backup,
        repository.volume_keys,
        namespace=volumes.namespace,
        location=spec.storage_location,
        session=session,
    )
    asked.ask(chosen)
    asked.wait(volumes.timeout, volumes.progress)
    for message in asked.outcome.warnings:
        log.warning(message)
    for message in asked.outcome.errors:
        log.error(message)
    taken = asked.outcome.snapshots
    log.info(f"{len(taken)} of {len(chosen)} pod volumes backed up")
    return taken
