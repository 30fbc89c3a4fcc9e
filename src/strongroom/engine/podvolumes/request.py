"""The backup's side of pod volumes: ask the node agents, wait for them, list what they took.

One PodVolumeBackup per chosen volume (:mod:`.selection`) of a running pod; the node agent of
the pod's node takes it. The backup waits for all of them (up to ``timeout``), renewing its
volume session meanwhile so that no collection takes chunks a snapshot stored before the
manifest lists it, then checks and lists each report (:func:`inbackup.attach`). Every volume
that could not be backed up is an error naming it; the rest of the backup is kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
import typing
from collections import abc
from typing import Any

from strongroom import errors as base_errors
from strongroom.engine.podvolumes import objects, selection
from strongroom.engine.volumes import inbackup
from strongroom.kube import bodies
from strongroom.kube import client as kube_client
from strongroom.kube import errors as kube_errors
from strongroom.repository import backups as stored
from strongroom.repository.volumes import catalog, parts, sessions
from strongroom.repository.volumes import keys as volkeys

POLL = 0.25


@dataclasses.dataclass
class Outcome:
    #: The backup's ``status.volumeSnapshots``.
    snapshots: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


class Request:
    """Pod volume backups for one backup; see the module docstring."""

    def __init__(
        self,
        kube: kube_client.Client,
        writer: stored.Writer,
        keys_of: abc.Callable[[int], volkeys.VolumeKeys],
        *,
        namespace: str,
        location: str,
        session: sessions.Session,
    ) -> None:
        self._kube = kube
        self._writer = writer
        self._keys_of = keys_of
        self._namespace = namespace
        self._location = location
        self._session = session
        self.outcome = Outcome()
        self._asked: dict[str, selection.Chosen] = {}
        #: The indexes, read once for all the reports (by epoch).
        self._catalogs: dict[int, catalog.Catalog] = {}

    def _backup(self) -> dict[str, Any]:
        ref = self._writer.ref
        recipient = self._writer.identity.recipient().encode()
        return {"name": self._writer.name, "id": ref.backup, "epoch": ref.epoch,
                "recipient": recipient}  # fmt: skip

    def ask(self, chosen: abc.Sequence[selection.Chosen]) -> None:
        """Create a PodVolumeBackup for each volume that can be read."""
        for volume in chosen:
            label = f"volume {volume.volume} of pod {volume.namespace}/{volume.pod}"
            if not volume.running or not volume.node:
                self.outcome.errors.append(f"{label}: the pod is not running, so its volume "
                                           "cannot be read")  # fmt: skip
                continue
            pvc = None
            if volume.claim is not None:
                try:
                    claim = self._kube.get("persistentvolumeclaims", volume.claim, volume.namespace)
                except kube_errors.NotFound:
                    self.outcome.errors.append(f"{label}: claim {volume.claim} is gone")
                    continue
                pvc = {"name": volume.claim, "uid": str(claim["metadata"].get("uid", ""))}
            body = objects.request(
                namespace=self._namespace,
                backup=self._backup(),
                location=self._location,
                pod={"namespace": volume.namespace, "name": volume.pod, "uid": volume.pod_uid},
                volume=volume.volume,
                node=volume.node,
                pvc=pvc,
            )
            try:
                made = self._kube.create(
                    objects.RESOURCE, typing.cast(bodies.KubeObject, body), self._namespace
                )
            except kube_errors.NotFound:
                self.outcome.errors.append(
                    f"{label}: no node agent is installed (podvolumebackups.strongroom.io is "
                    f"not served, or namespace {self._namespace} does not exist)"
                )
                continue
            self._asked[made["metadata"]["name"]] = volume

    def wait(
        self, timeout: float, progress: abc.Callable[[int, int, int], None] | None = None
    ) -> None:
        """Wait until every asked volume is done, or ``timeout`` seconds; then list them.
        ``progress(done, total, bytes read)`` after each look at the objects."""
        deadline = time.monotonic() + timeout
        found: dict[str, Any] = {}
        while self._asked:
            found = {o["metadata"]["name"]: o for o in self._list()}
            if progress is not None:
                done = sum(objects.phase(found.get(n, {})) in objects.DONE for n in self._asked)
                read = sum(int(((found.get(n) or {}).get("status") or {}).get("progress", {})
                               .get("bytesDone") or 0) for n in self._asked)  # fmt: skip
                progress(done, len(self._asked), read)
            if all(objects.phase(found.get(n, {})) in objects.DONE for n in self._asked):
                break
            if time.monotonic() >= deadline:
                break
            self._session.refresh()
            time.sleep(POLL)
        for name, volume in self._asked.items():
            self._settle(name, volume, found.get(name, {}), timeout)
        self._forget()

    def _forget(self) -> None:
        """Delete the PodVolumeBackups: their outcome is in the backup now, and one no agent
        took by the timeout must not be taken after it (a volume nobody lists)."""
        for name in self._asked:
            with contextlib.suppress(kube_errors.KubeError):
                self._kube.delete(objects.RESOURCE, name, self._namespace)

    def _list(self) -> list[Any]:
        selector = f"{objects.BACKUP_ID}={self._writer.ref.backup}"
        return list(self._kube.list(objects.RESOURCE, self._namespace, label_selector=selector))

    def _settle(self, name: str, volume: selection.Chosen, obj: Any, timeout: float) -> None:
        label = f"volume {volume.volume} of pod {volume.namespace}/{volume.pod}"
        phase = objects.phase(obj)
        status = obj.get("status") or {}
        if phase == objects.FAILED:
            self.outcome.errors.append(f"{label}: {status.get('message') or 'failed'}")
            return
        if phase != objects.COMPLETED:
            why = "no node agent took it" if phase == objects.NEW else "it did not finish"
            self.outcome.errors.append(f"{label} on node {volume.node}: {why} within {timeout:g}s"
                                       f" (PodVolumeBackup {self._namespace}/{name})")  # fmt: skip
            return
        described = {
            "namespace": volume.namespace,
            "pod": volume.pod,
            "podUID": volume.pod_uid,
            "volume": volume.volume,
            "pvc": volume.claim or "",
            "node": volume.node,
        }
        try:
            part = parts.Part.from_json(status.get("report"), f"PodVolumeBackup {name}")
            entry = inbackup.attach(self._writer, part, self._keys_of, described, self._catalogs)
        except base_errors.StrongroomError as exc:  # IntegrityError mostly
            self.outcome.errors.append(f"{label}: its report was refused ({exc})")
            return
        self.outcome.snapshots.append(entry)
        if entry["phase"] != "Completed":
            self.outcome.warnings.append(f"{label}: {status.get('message') or entry['phase']}")


def pod_summary(body: bytes) -> dict[str, Any]:
    """What selection needs of an archived pod (its JSON)."""
    doc = json.loads(body)
    meta = doc.get("metadata") or {}
    return {
        "metadata": {k: meta.get(k) for k in ("namespace", "name", "uid", "annotations")},
        "spec": {k: (doc.get("spec") or {}).get(k) for k in ("volumes", "nodeName")},
        "status": {"phase": (doc.get("status") or {}).get("phase")},
    }
