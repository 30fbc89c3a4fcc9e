"""The node agent's loop (docs/node-agent.md): take this node's PodVolumeBackups and
PodVolumeRestores, a few at once.

New objects for its node are taken as a watch reports them; a list of the objects labelled
for its node catches the rest (every ``interval`` seconds, and at once after finishing one). At
start, those InProgress were being worked on by an agent that is gone: they are marked Failed,
never left running. New ones are handed to at most ``concurrency`` worker threads, each running
:func:`strongroom.engine.podvolumes.take.run` (or ``run_restore``), which writes the object's
status. A failure of one volume is that volume's status, never the agent's end.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import pathlib
import threading
from collections import abc
from typing import Any

from strongroom import clock as clock_mod
from strongroom import errors as base_errors
from strongroom.engine.podvolumes import objects, take
from strongroom.engine.volumes import inbackup
from strongroom.kube import client as kube_client
from strongroom.kube import discovery
from strongroom.kube import errors as kube_errors

LOG = logging.getLogger("strongroom.node-agent")
RESTARTED = "the node agent restarted while backing it up; back up again"


class NotInstalled(base_errors.StrongroomError):
    """Neither of the agent's resources is served by the API server."""


class Agent:
    """One node's agent; ``targets`` opens a location by name (a writer, usually)."""

    def __init__(
        self,
        kube: kube_client.Client,
        node: str,
        kubelet_root: pathlib.Path,
        targets: abc.Callable[[str], inbackup.Source],
        *,
        namespace: str = objects.DEFAULT_NAMESPACE,
        concurrency: int = 2,
        interval: float = 1.0,
        clock: clock_mod.Clock | None = None,
    ) -> None:
        self._kube = kube
        self._node = node
        self._root = kubelet_root
        self._targets = targets
        self._namespace = namespace
        self._interval = interval
        self._clock = clock or clock_mod.SystemClock()
        self._pool = concurrent.futures.ThreadPoolExecutor(concurrency, "volume")
        self._slots = threading.Semaphore(concurrency)
        self._running: set[str] = set()
        #: Work this agent finished: never taken again, whatever a stale list says.
        self._done: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()

    def _mine(self) -> list[tuple[discovery.APIResource, Any]]:
        """This node's PodVolumeBackups and PodVolumeRestores."""
        selector = f"{objects.NODE}={self._node}"
        found = []
        missing = []
        for resource in (objects.RESOURCE, objects.RESTORE_RESOURCE):
            try:
                listed = list(self._kube.list(resource, self._namespace, label_selector=selector))
            except kube_errors.NotFound:  # that definition is not installed (yet)
                missing.append(f"{resource.name}.{resource.group}")
                continue
            found += [(resource, obj) for obj in listed]
        if len(missing) == 2:
            raise NotInstalled(f"{' and '.join(missing)} are not served: is Strongroom installed?")
        return found

    def recover(self) -> int:
        """Mark Failed what a previous agent of this node left InProgress; how many."""
        count = 0
        for resource, obj in self._mine():
            if objects.phase(obj) == objects.IN_PROGRESS:
                self._fail(resource, obj["metadata"]["name"], RESTARTED)
                count += 1
        return count

    def poll(self) -> int:
        """Start the new work there are free workers for; how many started."""
        started = 0
        mine = self._mine()
        with self._lock:  # what the client deleted is forgotten here too
            self._done &= {f"{r.kind}/{o['metadata']['name']}" for r, o in mine}
        for resource, obj in mine:
            offered = self._offer(resource, obj)
            if offered is None:
                break
            started += offered
        return started

    def _offer(self, resource: discovery.APIResource, obj: Any) -> int | None:
        """Start work on ``obj`` if it is new to this agent: 1 if started, 0 if not for us
        (not New, running, or done already), None when every worker is busy."""
        key = f"{resource.kind}/{obj['metadata']['name']}"
        with self._lock:
            if objects.phase(obj) != objects.NEW or key in self._running or key in self._done:
                return 0
            if not self._slots.acquire(blocking=False):
                return None
            self._running.add(key)
        self._pool.submit(self._work, resource, obj, key)
        return 1

    def _work(self, resource: discovery.APIResource, obj: Any, key: str) -> None:
        name = obj["metadata"]["name"]
        try:
            location = str((obj.get("spec") or {}).get("backupStorageLocation") or "")
            try:
                target = self._targets(location)
            except base_errors.StrongroomError as exc:
                self._fail(resource, name, f"location {location!r}: {exc}")
                return
            work = take.run_restore if resource is objects.RESTORE_RESOURCE else take.run
            final = work(self._kube, obj, target, self._root, node=self._node, clock=self._clock)
            LOG.info("%s: %s", key, final.get("phase"))
        except (base_errors.StrongroomError, kube_errors.KubeError, OSError) as exc:
            LOG.warning("%s: %s", key, exc)
        except Exception as exc:  # a bug: the volume fails, saying so, rather than stay New
            LOG.exception("%s", key)
            message = f"internal error in the node agent: {type(exc).__name__}: {exc}"
            with contextlib.suppress(kube_errors.KubeError, base_errors.StrongroomError):
                self._fail(resource, name, message)
        finally:
            with self._lock:
                self._running.discard(key)
                self._done.add(key)  # a list read before it ended may still say New
            self._slots.release()
            self._wake.set()

    def _fail(self, resource: discovery.APIResource, name: str, message: str) -> None:
        status = {"phase": objects.FAILED, "message": message,
                  "completionTimestamp": clock_mod.rfc3339(self._clock.now())}  # fmt: skip
        self._kube.patch(resource, name, {"status": status}, self._namespace,
                         subresource="status")  # fmt: skip

    def _watch(self, resource: discovery.APIResource) -> None:
        """Take new work as the watch reports it (the periodic list catches what a watch
        misses, and what arrived while every worker was busy)."""
        selector = f"{objects.NODE}={self._node}"
        while not self._stop.is_set():
            try:
                for event in self._kube.watch(resource, self._namespace, label_selector=selector,
                                              timeout_seconds=30):  # fmt: skip
                    if self._stop.is_set():
                        return
                    if event.type == "ADDED" and self._offer(resource, event.object) is None:
                        self._wake.set()  # busy: the list after the next finish takes it
            except (kube_errors.KubeError, base_errors.StrongroomError, OSError):
                self._stop.wait(self._interval)

    def run(self) -> None:
        """Work until :meth:`stop`; a failing list (the definition not installed yet, the API
        server away) is logged and tried again."""
        for resource in (objects.RESOURCE, objects.RESTORE_RESOURCE):
            watcher = threading.Thread(target=self._watch, args=(resource,), daemon=True,
                                       name=f"watch-{resource.name}")  # fmt: skip
            watcher.start()
        recovered = False
        while not self._stop.is_set():
            try:
                if not recovered:
                    self.recover()
                    recovered = True
                self.poll()
            except (kube_errors.KubeError, base_errors.StrongroomError) as exc:
                LOG.warning("listing this node's work: %s", exc)
            self._wake.wait(self._interval)
            self._wake.clear()
        self._pool.shutdown(wait=True)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
