"""The node agent's loop (docs/node-agent.md): take this node's PodVolumeBackups, a few at once.

Every second (and at once after finishing one) it lists the PodVolumeBackups labelled for its
node. At start, those InProgress were being worked on by an agent that is gone: they are
marked Failed, never left running. New ones are handed to at most ``concurrency`` worker
threads, each running :func:`strongroom.engine.podvolumes.take.run`, which writes the
object's status. A failure of one volume is that volume's status, never the agent's end.
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
from strongroom.kube import errors as kube_errors

LOG = logging.getLogger("strongroom.node-agent")
RESTARTED = "the node agent restarted while backing it up; back up again"


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
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()

    def _mine(self) -> list[Any]:
        selector = f"{objects.NODE}={self._node}"
        return list(self._kube.list(objects.RESOURCE, self._namespace, label_selector=selector))

    def recover(self) -> int:
        """Mark Failed what a previous agent of this node left InProgress; how many."""
        count = 0
        for obj in self._mine():
            if objects.phase(obj) == objects.IN_PROGRESS:
                status = {"phase": objects.FAILED, "message": RESTARTED,
                          "completionTimestamp": clock_mod.rfc3339(self._clock.now())}  # fmt: skip
                self._kube.patch(objects.RESOURCE, obj["metadata"]["name"], {"status": status},
                                 self._namespace, subresource="status")  # fmt: skip
                count += 1
        return count

    def poll(self) -> int:
        """Start the new PodVolumeBackups there are free workers for; how many started."""
        started = 0
        for obj in self._mine():
            name = obj["metadata"]["name"]
            with self._lock:
                if objects.phase(obj) != objects.NEW or name in self._running:
                    continue
            if not self._slots.acquire(blocking=False):
                break
            with self._lock:
                self._running.add(name)
            self._pool.submit(self._work, obj)
            started += 1
        return started

    def _work(self, obj: Any) -> None:
        name = obj["metadata"]["name"]
        try:
            location = str((obj.get("spec") or {}).get("backupStorageLocation") or "")
            try:
                target = self._targets(location)
            except base_errors.StrongroomError as exc:
                self._fail(name, f"location {location!r}: {exc}")
                return
            final = take.run(self._kube, obj, target, self._root, node=self._node,
                             clock=self._clock)  # fmt: skip
            LOG.info("PodVolumeBackup %s: %s", name, final.get("phase"))
        except (base_errors.StrongroomError, kube_errors.KubeError, OSError) as exc:
            LOG.warning("PodVolumeBackup %s: %s", name, exc)
        except Exception as exc:  # a bug: the volume fails, saying so, rather than stay New
            LOG.exception("PodVolumeBackup %s", name)
            with contextlib.suppress(kube_errors.KubeError, base_errors.StrongroomError):
                self._fail(name, f"internal error in the node agent: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._running.discard(name)
            self._slots.release()
            self._wake.set()

    def _fail(self, name: str, message: str) -> None:
        status = {"phase": objects.FAILED, "message": message,
                  "completionTimestamp": clock_mod.rfc3339(self._clock.now())}  # fmt: skip
        self._kube.patch(objects.RESOURCE, name, {"status": status}, self._namespace,
                         subresource="status")  # fmt: skip

    def run(self) -> None:
        """Work until :meth:`stop`; a failing list (the definition not installed yet, the API
        server away) is logged and tried again."""
        recovered = False
        while not self._stop.is_set():
            try:
                if not recovered:
                    self.recover()
                    recovered = True
                self.poll()
            except (kube_errors.KubeError, base_errors.StrongroomError) as exc:
                LOG.warning("listing PodVolumeBackups: %s", exc)
            self._wake.wait(self._interval)
            self._wake.clear()
        self._pool.shutdown(wait=True)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
