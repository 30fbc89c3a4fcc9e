"""The node agent's work on one PodVolumeBackup (find the folder, back it up into the backup)
or PodVolumeRestore (restore it from a grant, then write the restore's marker).

Everything in the object is the cluster's word, so each name is checked before it becomes part
of a path (:func:`folder`), the pod must be the one named (uid) and on this node, and the
folder, once resolved, must lie under the kubelet root. The snapshot goes into the backup
named by the object (:class:`~strongroom.engine.volumes.inbackup.InBackup`), as the agent's
writer credential stores it; the report goes into the object's status.
"""

from __future__ import annotations

import base64
import os
import pathlib
import threading
import time
from collections import abc
from typing import Any

from strongroom import clock as clock_mod
from strongroom import errors as base_errors
from strongroom.crypto import agekeys
from strongroom.engine.podvolumes import objects, restores
from strongroom.engine.volumes import backup as snapshotting
from strongroom.engine.volumes import inbackup
from strongroom.engine.volumes import restore as restoring
from strongroom.kube import client as kube_client
from strongroom.kube import discovery
from strongroom.kube import errors as kube_errors
from strongroom.repository.volumes import grants

#: Seconds between progress updates written to the object.
PROGRESS_EVERY = 1.0
IN_TREE = {"nfs": "kubernetes.io~nfs", "local": "kubernetes.io~local-volume"}


class Refused(base_errors.StrongroomError):
    """The object asks for something this agent will not or cannot do (its message says)."""


def folder(kube: kube_client.Client, root: pathlib.Path, pod: Any, volume: str) -> pathlib.Path:
    """Where ``volume`` of ``pod`` is on this node, under the kubelet ``root``."""
    uid = pod["metadata"].get("uid")
    if not objects.is_uid(uid) or not objects.is_label(volume):
        raise Refused("the pod's uid or the volume's name is malformed")
    found = next((v for v in pod["spec"].get("volumes") or [] if v.get("name") == volume), None)
    if found is None:
        raise Refused(f"the pod has no volume {volume!r}")
    base = root / "pods" / str(uid) / "volumes"
    if "emptyDir" in found:
        path = base / "kubernetes.io~empty-dir" / volume
    elif "persistentVolumeClaim" in found:
        path = _claim_folder(kube, base, pod["metadata"]["namespace"], found)
    else:
        raise Refused(f"volume {volume!r} is neither a claim nor an emptyDir")
    if not path.is_dir():
        raise Refused(f"{path}: not there (is the pod running on this node?)")
    # Every component was checked, so the path stays under the kubelet folder; only the
    # volume's own folder is resolved (a bind mount on a node, a link in the sandbox): the
    # backup walks below it without following links.
    return pathlib.Path(os.path.realpath(path))


def _claim_folder(
    kube: kube_client.Client, base: pathlib.Path, namespace: str, volume: dict[str, Any]
) -> pathlib.Path:
    claim_name = volume["persistentVolumeClaim"].get("claimName")
    if not objects.is_subdomain(claim_name):
        raise Refused("the claim's name is malformed")
    claim = kube.get("persistentvolumeclaims", str(claim_name), namespace)
    bound = (claim.get("spec") or {}).get("volumeName")
    if not objects.is_subdomain(bound):
        raise Refused(f"claim {namespace}/{claim_name} is not bound to a volume")
    pv = kube.get("persistentvolumes", str(bound))
    spec = pv.get("spec") or {}
    if "csi" in spec:
        return base / "kubernetes.io~csi" / str(bound) / "mount"
    for key, plugin in IN_TREE.items():
        if key in spec:
            return base / plugin / str(bound)
    raise Refused(f"volume {bound} is of a kind the node agent cannot read (hostPath?)")


def _status_writer(
    kube: kube_client.Client, resource: discovery.APIResource, request: dict[str, Any]
) -> abc.Callable[[dict[str, Any]], None]:
    """Writes fields into the object's status (its status subresource)."""
    meta = request["metadata"]

    def update(fields: dict[str, Any]) -> None:
        kube.patch(resource, meta["name"], {"status": fields}, meta["namespace"],
                   subresource="status")  # fmt: skip

    return update


def _pod_of(kube: kube_client.Client, spec: dict[str, Any], node: str) -> Any:
    """The pod the object names: by namespace and name, the same uid, on this node."""
    wanted = spec.get("pod") or {}
    if spec.get("node") != node:
        raise Refused(f"it is for node {spec.get('node')!r}, not {node!r}")
    try:
        pod = kube.get("pods", str(wanted.get("name")), str(wanted.get("namespace")))
    except kube_errors.NotFound:
        raise Refused("its pod is gone") from None
    if pod["metadata"].get("uid") != wanted.get("uid"):
        raise Refused("its pod was replaced (another uid)")
    if (pod.get("spec") or {}).get("nodeName") != node:
        raise Refused(f"its pod is not on node {node}")
    return pod


def _failed(started: str, clock: clock_mod.Clock, exc: BaseException) -> dict[str, Any]:
    """The status of work that failed: the first line of its cause."""
    return {
        "phase": objects.FAILED,
        "startTimestamp": started,
        "completionTimestamp": clock_mod.rfc3339(clock.now()),
        "message": str(exc).splitlines()[0][:1000] if str(exc) else type(exc).__name__,
    }


class _Progress:
    """Writes bytes done into the object's status, at most every :data:`PROGRESS_EVERY`."""

    def __init__(self, update: abc.Callable[[dict[str, Any]], None]) -> None:
        self._update = update
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, stats: snapshotting.Stats) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < PROGRESS_EVERY:
                return
            self._last = now
        self._update({"progress": {"bytesDone": stats.bytes_read}})


def run(
    kube: kube_client.Client,
    request: dict[str, Any],
    target: inbackup.Source,
    root: pathlib.Path,
    *,
    node: str,
    clock: clock_mod.Clock | None = None,
) -> dict[str, Any]:
    """Back up the volume ``request`` (a PodVolumeBackup) names; its final status."""
    clock = clock or clock_mod.SystemClock()
    spec = request.get("spec") or {}
    update = _status_writer(kube, objects.RESOURCE, request)
    started = clock_mod.rfc3339(clock.now())
    try:
        pod = _pod_of(kube, spec, node)
        path = folder(kube, root, pod, str(spec.get("volume")))
        described = spec.get("backup") or {}
        epoch, recipient = described.get("epoch"), described.get("recipient")
        if not isinstance(epoch, int) or not isinstance(recipient, str):
            raise Refused("its backup has no epoch or recipient")
        into = inbackup.InBackup(target, str(described.get("id")), epoch,
                                 agekeys.Recipient.parse(recipient))  # fmt: skip
        update({"phase": objects.IN_PROGRESS, "startTimestamp": started, "path": str(path)})
        outcome = snapshotting.backup(into, str(path), tags=dict(spec.get("tags") or {}),
                                      clock=clock, progress=_Progress(update))  # fmt: skip
        final: dict[str, Any] = {
            "phase": objects.COMPLETED,
            "startTimestamp": started,
            "completionTimestamp": clock_mod.rfc3339(clock.now()),
            "path": str(path),
            "snapshotID": outcome.snapshot,
            "progress": {"totalBytes": outcome.stats.bytes, "bytesDone": outcome.stats.bytes},
            "report": into.part.to_json(),
        }
        if outcome.warnings:
            final["message"] = "; ".join(outcome.warnings[:5])
    except (base_errors.StrongroomError, OSError) as exc:
        final = _failed(started, clock, exc)
    update(final)
    return final


def run_restore(
    kube: kube_client.Client,
    request: dict[str, Any],
    target: inbackup.Source,
    root: pathlib.Path,
    *,
    node: str,
    clock: clock_mod.Clock | None = None,
) -> dict[str, Any]:
    """Restore the volume ``request`` (a PodVolumeRestore) names, with the grant it points
    to, then write the restore's marker into the volume; its final status."""
    clock = clock or clock_mod.SystemClock()
    spec = request.get("spec") or {}
    update = _status_writer(kube, objects.RESTORE_RESOURCE, request)
    started = clock_mod.rfc3339(clock.now())
    try:
        marker = spec.get("marker")
        if not objects.is_label(marker):
            raise Refused("its marker is malformed")
        pod = _pod_of(kube, spec, node)
        path = folder(kube, root, pod, str(spec.get("volume")))
        grant = _grant(kube, str(spec.get("grantSecret")), request["metadata"]["namespace"])
        if grant.snapshot != spec.get("snapshotID"):
            raise Refused("its grant is for another snapshot")
        update({"phase": objects.IN_PROGRESS, "startTimestamp": started, "path": str(path)})
        outcome = restoring.restore_granted(target.backend, target.volume_keys(), grant, path,
                                            overwrite=True)  # fmt: skip
        done = path / restores.MARKER_DIR
        done.mkdir(mode=0o755, exist_ok=True)
        (done / str(marker)).touch()
        final: dict[str, Any] = {
            "phase": objects.COMPLETED,
            "startTimestamp": started,
            "completionTimestamp": clock_mod.rfc3339(clock.now()),
            "path": str(path),
            "progress": {"totalBytes": outcome.bytes, "bytesDone": outcome.bytes},
        }
        if outcome.warnings:
            final["message"] = "; ".join(outcome.warnings[:5])
    except (base_errors.StrongroomError, OSError) as exc:
        final = _failed(started, clock, exc)
    update(final)
    return final


def _grant(kube: kube_client.Client, name: str, namespace: str) -> grants.Grant:
    if not objects.is_subdomain(name):
        raise Refused("its grant's name is malformed")
    try:
        secret = kube.get("secrets", name, namespace)
    except kube_errors.NotFound:
        raise Refused(f"its grant {namespace}/{name} is gone") from None
    data = (secret.get("data") or {}).get(restores.GRANT_KEY)
    if not isinstance(data, str):
        raise Refused(f"secret {namespace}/{name} holds no grant")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise Refused(f"secret {namespace}/{name} holds no grant") from None
    return grants.Grant.from_bytes(raw, f"grant {namespace}/{name}")
