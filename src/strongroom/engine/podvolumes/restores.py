"""The restore's side of pod volumes (docs/node-agent.md, "Restores").

A restored pod whose backup holds snapshots of its volumes gets a first init container, the
restore helper, that holds the pod until each of those volumes holds the restore's marker
(``<volume>/.strongroom/<marker>``), so the application never starts on an empty volume. Once
the pod is on a node, the restore gives that node's agent a grant (a Secret: the keys of that
snapshot's tree and packs, :mod:`strongroom.repository.volumes.grants`) and a
PodVolumeRestore; the agent restores the volume through the kubelet's folder and writes the
marker. The restore waits for every volume (up to its timeout), then deletes the grants.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import time
import typing
from collections import abc
from typing import Any

from strongroom.engine.podvolumes import objects
from strongroom.engine.volumes import snapshots
from strongroom.kube import bodies
from strongroom.kube import client as kube_client
from strongroom.kube import errors as kube_errors
from strongroom.repository import repo as repo_mod
from strongroom.repository.volumes import catalog

HELPER = "strongroom-restore-wait"
MARKER_DIR = ".strongroom"
MOUNT_ROOT = "/restores"
GRANT_KEY = "grant"
#: The image of the restore helper: Strongroom's own (``strongroom restore-helper``).
DEFAULT_IMAGE = "ghcr.io/strongroom-io/strongroom:latest"
POLL = 0.25


def helper_container(volumes: abc.Sequence[str], marker: str, image: str) -> dict[str, Any]:
    """The restore helper init container for ``volumes`` of a pod."""
    paths = [f"{MOUNT_ROOT}/{v}" for v in volumes]
    return {
        "name": HELPER,
        "image": image,
        "command": ["strongroom", "restore-helper"],
        "args": ["--marker", marker, *paths],
        "volumeMounts": [{"name": v, "mountPath": p} for v, p in zip(volumes, paths, strict=True)],
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"cpu": "100m", "memory": "64Mi"},
        },  # fmt: skip
    }


def by_pod(held: abc.Iterable[snapshots.Held]) -> dict[tuple[str, str], list[snapshots.Held]]:
    """The backup's snapshots by the (backed-up namespace, pod) they were taken from."""
    found: dict[tuple[str, str], list[snapshots.Held]] = {}
    for each in held:
        key = (str(each.entry.get("namespace")), str(each.entry.get("pod")))
        found.setdefault(key, []).append(each)
    return found


@dataclasses.dataclass
class Outcome:
    restored: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)


class Request:
    """Pod volume restores for one restore; see the module docstring."""

    def __init__(
        self,
        kube: kube_client.Client,
        repository: repo_mod.Repository,
        *,
        restore: str,
        location: str,
        namespace: str,
        marker: str,
    ) -> None:
        self._kube = kube
        self._repository = repository
        self._restore = restore
        self._location = location
        self._namespace = namespace
        self._marker = marker
        self._asked: dict[str, tuple[str, str, snapshots.Held]] = {}
        self._grants: list[str] = []
        #: The indexes, read once for all the grants (by epoch).
        self._catalogs: dict[int, catalog.Catalog] = {}
        self.outcome = Outcome()

    def ask(
        self, pods: abc.Mapping[tuple[str, str], abc.Sequence[snapshots.Held]], timeout: float
    ) -> None:
        """For each restored pod (target namespace, name) and its snapshots: wait until it is
        on a node, then hand each volume to that node's agent."""
        deadline = time.monotonic() + timeout
        for (namespace, name), held in pods.items():
            pod = self._scheduled(namespace, name, deadline)
            if pod is None:
                for each in held:
                    self.outcome.errors.append(
                        f"volume {each.entry.get('volume')} of pod {namespace}/{name}: the pod "
                        f"was not scheduled within {timeout:g}s"
                    )
                continue
            for each in held:
                self._ask_one(pod, each)

    def _scheduled(self, namespace: str, name: str, deadline: float) -> Any:
        while True:
            try:
                pod = self._kube.get("pods", name, namespace)
            except kube_errors.NotFound:
                pod = None
            if pod is not None and (pod.get("spec") or {}).get("nodeName"):
                return pod
            if time.monotonic() >= deadline:
                return None
            time.sleep(POLL)

    def _ask_one(self, pod: Any, held: snapshots.Held) -> None:
        meta = pod["metadata"]
        volume = str(held.entry.get("volume"))
        grant = snapshots.grant(self._repository, held, self._catalogs)
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "generateName": f"strongroom-grant-{self._restore[:40]}-",
                "namespace": self._namespace,
                "labels": {objects.RESTORE_NAME: self._restore},
            },
            "type": "Opaque",
            "data": {GRANT_KEY: base64.b64encode(grant.to_bytes()).decode()},
        }
        made = self._kube.create("secrets", typing.cast(bodies.KubeObject, secret), self._namespace)
        secret_name = made["metadata"]["name"]
        self._grants.append(secret_name)
        manifest = held.item.manifest
        body = objects.restore_request(
            namespace=self._namespace,
            restore=self._restore,
            backup={
                "name": manifest.name,
                "id": manifest.backup,
                "epoch": manifest.epoch,
                "recipient": "",
            },  # fmt: skip
            location=self._location,
            pod={"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
            volume=volume,
            node=str(pod["spec"]["nodeName"]),
            snapshot=held.id,
            marker=self._marker,
            grant=secret_name,
            source_namespace=str(held.entry.get("namespace")),
        )
        created = self._kube.create(
            objects.RESTORE_RESOURCE, typing.cast(bodies.KubeObject, body), self._namespace
        )
        self._asked[created["metadata"]["name"]] = (meta["namespace"], meta["name"], held)

    def wait(
        self, timeout: float, progress: abc.Callable[[int, int, int], None] | None = None
    ) -> None:
        """Wait for every asked volume (at most ``timeout``), record each, delete the grants.
        ``progress(done, total, bytes written)`` after each look at the objects."""
        deadline = time.monotonic() + timeout
        found: dict[str, Any] = {}
        try:
            while self._asked:
                selector = f"{objects.RESTORE_NAME}={self._restore}"
                listed = self._kube.list(objects.RESTORE_RESOURCE, self._namespace,
                                         label_selector=selector)  # fmt: skip
                found = {o["metadata"]["name"]: o for o in listed}
                if progress is not None:
                    states = [found.get(n) or {} for n in self._asked]
                    done = sum(objects.phase(o) in objects.DONE for o in states)
                    written = sum(int(((o.get("status") or {}).get("progress") or {})
                                      .get("bytesDone") or 0) for o in states)  # fmt: skip
                    progress(done, len(states), written)
                if all(objects.phase(found.get(n, {})) in objects.DONE for n in self._asked):
                    break
                if time.monotonic() >= deadline:
                    break
                time.sleep(POLL)
        finally:
            for name in self._grants:
                with contextlib.suppress(kube_errors.NotFound):
                    self._kube.delete("secrets", name, self._namespace)
            for name in self._asked:  # their outcome goes into the restore's log and results
                with contextlib.suppress(kube_errors.KubeError):
                    self._kube.delete(objects.RESTORE_RESOURCE, name, self._namespace)
        for name, (namespace, pod, held) in self._asked.items():
            obj = found.get(name, {})
            label = f"volume {held.entry.get('volume')} of pod {namespace}/{pod}"
            phase = objects.phase(obj)
            if phase == objects.COMPLETED:
                self.outcome.restored.append({"namespace": namespace, "pod": pod,
                                              "volume": held.entry.get("volume"),
                                              "snapshot": held.id})  # fmt: skip
            elif phase == objects.FAILED:
                message = (obj.get("status") or {}).get("message") or "failed"
                self.outcome.errors.append(f"{label}: {message}")
            else:
                why = "no node agent took it" if phase == objects.NEW else "it did not finish"
                self.outcome.errors.append(f"{label}: {why} within {timeout:g}s")
