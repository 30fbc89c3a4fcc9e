"""Making sure the target namespace of each item exists before the item is created.

As in Velero, Namespace objects are never updated: a missing namespace is created from the
backed-up Namespace object when the backup holds one (name mapped, labels, annotations and
spec kept, the restore labels added), else bare, and recorded in the resource list as
created; one that exists is left as it is. A namespace that is terminating is waited for
until it is gone (up to ``timeout`` seconds), then created anew.

Items are restored by several threads at once: the first to need a namespace looks it up
(and creates it) while the others needing the same one wait for its answer, so each target
namespace costs one GET (and one POST) whatever the number of workers.
"""

from __future__ import annotations

import threading
import time
import typing
from collections.abc import Callable, Mapping
from typing import Any

from strongroom import clock as clock_mod
from strongroom.engine import logs
from strongroom.engine.restore import errors, resourcelist, sanitize
from strongroom.engine.restore.actions import base, namespace
from strongroom.kube import bodies, client
from strongroom.kube import errors as kube_errors

POLL_SECONDS = 0.2


class Ensurer:
    """Creates target namespaces on first use; remembers which are ready."""

    def __init__(
        self,
        kube: client.Client,
        *,
        backed_up: Mapping[str, Mapping[str, Any]],
        context: base.ActionContext,
        labels: Mapping[str, str],
        log: logs.RunLog,
        resources: resourcelist.ResourceList,
        clock: clock_mod.Clock,
        timeout: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._kube = kube
        self._backed_up = backed_up
        self._context = context
        self._labels = labels
        self._log = log
        self._resources = resources
        self._clock = clock
        self._timeout = timeout
        self._sleep = sleep
        self._ready: set[str] = set()
        self._failed: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def ensure(self, target: str, source: str) -> str | None:
        """None once ``target`` exists, else why it could not be made to."""
        return self.ensure_created(target, source)[1]

    def ensure_created(self, target: str, source: str) -> tuple[bool, str | None]:
        """Whether this call created ``target``, and why it could not be made to exist."""
        if target in self._ready:
            return False, None
        with self._locks_lock:
            lock = self._locks.setdefault(target, threading.Lock())
        with lock:
            if target in self._ready:
                return False, None
            if target in self._failed:
                return False, self._failed[target]
            return self._make(target, source)

    def _make(self, target: str, source: str) -> tuple[bool, str | None]:
        try:
            if self._exists(target):
                self._ready.add(target)
                return False, None
            self._kube.create(
                "namespaces", typing.cast(bodies.KubeObject, self._body(target, source))
            )
        except kube_errors.AlreadyExists:
            self._ready.add(target)
            return False, None
        except errors.FATAL_KUBE_ERRORS:
            raise
        except kube_errors.KubeError as exc:
            problem = f"could not create namespace {target}: {exc}"
            self._failed[target] = problem
            return False, problem
        self._resources.add("v1", "Namespace", None, target, "created")
        self._log.info("created namespace", namespace=target)
        self._ready.add(target)
        return True, None

    def _exists(self, name: str) -> bool:
        """Whether ``name`` exists and is not terminating (waits out a terminating one)."""
        deadline = self._clock.now().timestamp() + self._timeout
        while True:
            try:
                live = self._kube.get("namespaces", name)
            except kube_errors.NotFound:
                return False
            terminating = (live.get("status") or {}).get("phase") == "Terminating" or (
                live.get("metadata") or {}
            ).get("deletionTimestamp")
            if not terminating:
                return True
            if self._clock.now().timestamp() >= deadline:
                raise kube_errors.ConditionTimeout(
                    f"namespace {name} still terminating after {self._timeout:g}s"
                )
            self._sleep(POLL_SECONDS)

    def _body(self, target: str, source: str) -> dict[str, Any]:
        found = self._backed_up.get(source)
        if found is None:
            body: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": target},
            }
        else:
            key = base.ItemKey("namespaces", None, source)
            stripped = sanitize.strip(found)
            body = (
                namespace.NamespaceAction()
                .execute(base.ActionInput(key, stripped, found, self._context))
                .item
            )
        return sanitize.with_labels(body, self._labels)
