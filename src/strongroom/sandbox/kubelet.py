"""A kubelet stand-in for every node: pod status and the pods' volume folders on disk.

A pod bound to one of the sandbox's nodes starts once every volume it mounts is there: its
claims bound to volumes, its ConfigMaps and Secrets present (unless optional). It then gets
the status a real kubelet posts (phase Running, the five conditions, a pod IP from its node's
pod network, a running status per container, init containers completed) and its volumes
appear where a real kubelet puts them, under :meth:`Kubelet.root` of its node::

    pods/<pod uid>/volumes/kubernetes.io~empty-dir/<volume>/        a folder of the pod's own
    pods/<pod uid>/volumes/kubernetes.io~csi/<pv>/mount             the volume's data
    pods/<pod uid>/volumes/kubernetes.io~csi/<pv>/vol_data.json

On a node ``mount`` is a bind mount of the volume; here it is a symbolic link to the volume's
folder (:meth:`storage.Storage.folder`), so what a pod's application would write there is what
a test writes there, and it outlives the pod. A pod that cannot start stays Pending, its
containers waiting in ``ContainerCreating``. A deleted pod's folder goes (emptyDir data with
it). Nothing runs, so containers never end, unless the pod carries the :data:`EXIT_CODE`
annotation and may end (restart policy Never or OnFailure): it is then Succeeded (code 0)
or Failed as soon as it has run.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import pathlib
import shutil
from typing import Any

from strongroom.sandbox import nodes, objects, restorewait, storage, store

Obj = dict[str, Any]

PODS = ("", "pods")
CONFIG_MAPS = ("", "configmaps")
SECRETS = ("", "secrets")
EMPTY_DIR = "kubernetes.io~empty-dir"
CSI = "kubernetes.io~csi"
_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")
#: A pod annotation: its containers end with this exit code as soon as they run (pods whose
#: restart policy is Never or OnFailure; how a test makes a Job's pods finish).
EXIT_CODE = "sandbox.strongroom.io/exit-code"
#: A volume folder to make: plugin folder, its name there, what ``mount`` links to (or None),
#: ``vol_data.json``, and the pod's name for the volume.
Mount = tuple[str, str, pathlib.Path | None, Obj, str]


class Kubelet:
    """Every node's kubelet; node ``N``'s files under ``<root>/N/kubelet``."""

    def __init__(self, objects_store: store.Store, root: pathlib.Path, volumes: storage.Storage):
        self._store = objects_store
        self._root = root
        self._volumes = volumes
        #: Pod folders this kubelet knows of, by pod uid (None until the first pass).
        self._made: dict[str, pathlib.Path] | None = None

    def root(self, node_name: str) -> pathlib.Path:
        """The node's kubelet folder (``/var/lib/kubelet`` on a real node)."""
        return self._root / node_name / "kubelet"

    def reconcile(self) -> bool:
        """Start the pods that can start, forget the folders of pods that are gone."""
        changed = False
        _, pods = self._store.items(PODS, None)
        live = set()
        for pod in pods:
            node_name = objects.dig(pod, "spec", "nodeName")
            if not node_name or self._store.get(nodes.NODES, "", node_name) is None:
                continue
            live.add(str(pod["metadata"].get("uid")))
            phase = objects.dig(pod, "status", "phase")
            if phase == "Pending":
                changed |= self._start(pod, str(node_name))
            elif phase == "Running" and _exit_code(pod) is not None:
                self._store.put(PODS, dict(pod, status=_ended(pod)))
                changed = True
        self._forget(live)
        return changed

    def _start(self, pod: Obj, node_name: str) -> bool:
        problem, mounts = self._volumes_of(pod)
        if problem:
            return self._waiting(pod, problem)
        pod_folder = self.root(node_name) / "pods" / str(pod["metadata"]["uid"])
        if self._made is not None:
            self._made[str(pod["metadata"]["uid"])] = pod_folder
        base = pod_folder / "volumes"
        folders: dict[str, pathlib.Path] = {}  # by the pod's name for each volume
        for plugin, name, target, data, volume in mounts:
            folder = base / plugin / name
            folder.mkdir(mode=0o750, parents=True, exist_ok=True)
            folders[volume] = folder
            if target is not None:
                link = folder / "mount"
                if not link.is_symlink():
                    link.symlink_to(target, target_is_directory=True)
                (folder / "vol_data.json").write_text(json.dumps(data, sort_keys=True))
                folders[volume] = link
        waiting = restorewait.pending(pod, folders)
        if waiting is not None:
            return self._initializing(pod, node_name, waiting)
        self._store.put(PODS, dict(pod, status=self._running(pod, node_name)))
        return True

    def _initializing(self, pod: Obj, node_name: str, waiting: str) -> bool:
        """The pod's restore-wait init container runs until its volumes are restored."""
        status = dict(pod.get("status") or {})
        if status.get("message") == waiting and status.get("hostIP"):
            return False
        running = self._running(pod, node_name)
        running.update(phase="Pending", message=waiting, reason="PodInitializing")
        for condition in running["conditions"]:
            if condition["type"] in ("Initialized", "Ready", "ContainersReady"):
                condition["status"] = "False"
        stamp = running["startTime"]
        running["initContainerStatuses"] = [
            _container(c, stamp, done=c.get("name") != restorewait.NAME)
            for c in _containers(pod, "initContainers")
        ]
        running["containerStatuses"] = [_container(c, None, reason="PodInitializing")
                                        for c in _containers(pod, "containers")]  # fmt: skip
        self._store.put(PODS, dict(pod, status=running))
        return True

    def _volumes_of(self, pod: Obj) -> tuple[str, list[Mount]]:
        """The reason the pod cannot start (or ""), and its folders to make."""
        namespace = str(pod["metadata"].get("namespace") or "")
        mounts: list[Mount] = []
        for volume in objects.dig(pod, "spec", "volumes") or []:
            name = str(volume.get("name"))
            if "emptyDir" in volume:
                mounts.append((EMPTY_DIR, name, None, {}, name))
            elif "persistentVolumeClaim" in volume:
                claim_name = str(objects.dig(volume, "persistentVolumeClaim", "claimName"))
                claim = self._store.get(storage.PVCS, namespace, claim_name)
                bound = objects.dig(claim, "spec", "volumeName") if claim else None
                pv = self._store.get(storage.PVS, "", str(bound)) if bound else None
                if claim is None or pv is None or objects.dig(claim, "status", "phase") != "Bound":
                    return f'persistentvolumeclaim "{claim_name}" is not bound', []
                folder = self._volumes.folder(pv)
                if folder is not None:
                    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
                    data = {"driverName": storage.DRIVER, "specVolID": str(bound),
                            "volumeHandle": str(objects.dig(pv, "spec", "csi", "volumeHandle")),
                            "volumeLifecycleMode": "Persistent"}  # fmt: skip
                    mounts.append((CSI, str(bound), folder, data, name))
            else:
                missing = self._missing_source(volume, namespace)
                if missing:
                    return missing, []
        return "", mounts

    def _missing_source(self, volume: Obj, namespace: str) -> str:
        for key, gr, field, kind in (
            ("configMap", CONFIG_MAPS, "name", "configmap"),
            ("secret", SECRETS, "secretName", "secret"),
        ):
            source = volume.get(key)
            if isinstance(source, dict) and not source.get("optional"):
                wanted = str(source.get(field) or "")
                if self._store.get(gr, namespace, wanted) is None:
                    return f'MountVolume.SetUp failed for volume "{volume.get("name")}" : ' \
                           f'{kind} "{wanted}" not found'  # fmt: skip
        return ""

    def _waiting(self, pod: Obj, message: str) -> bool:
        status = dict(pod.get("status") or {})
        if status.get("message") == message:
            return False
        status.update(
            phase="Pending",
            message=message,
            reason="ContainerCreating",
            containerStatuses=[_container(c, None) for c in _containers(pod, "containers")],
        )
        self._store.put(PODS, dict(pod, status=status))
        return True

    def _running(self, pod: Obj, node_name: str) -> Obj:
        stamp = objects.now()
        node_obj = self._store.get(nodes.NODES, "", node_name) or {}
        host = next((a["address"] for a in objects.dig(node_obj, "status", "addresses") or []
                     if a.get("type") == "InternalIP"), "127.0.0.1")  # fmt: skip
        address = objects.dig(pod, "status", "podIP") or self._pod_ip(
            node_obj, str(pod["metadata"].get("uid"))
        )
        conditions = [dict(c) for c in objects.dig(pod, "status", "conditions") or []
                      if c.get("type") not in _CONDITIONS]  # fmt: skip
        conditions += [{"type": kind, "status": "True", "lastProbeTime": None,
                        "lastTransitionTime": stamp} for kind in _CONDITIONS]  # fmt: skip
        status: Obj = {
            "phase": "Running",
            "conditions": conditions,
            "hostIP": host,
            "hostIPs": [{"ip": host}],
            "podIP": address,
            "podIPs": [{"ip": address}],
            "startTime": stamp,
            "qosClass": _qos(pod),
            "containerStatuses": [_container(c, stamp) for c in _containers(pod, "containers")],
        }
        init = _containers(pod, "initContainers")
        if init:
            status["initContainerStatuses"] = [_container(c, stamp, done=True) for c in init]
        return status

    def _pod_ip(self, node_obj: Obj, uid: str) -> str:
        index = nodes.index_of(node_obj) or 0
        network = ipaddress.ip_network(nodes.pod_cidr(index))
        _, pods = self._store.items(PODS, None)
        taken = {objects.dig(p, "status", "podIP") for p in pods}
        for candidate in list(network.hosts())[1:]:
            if str(candidate) not in taken:
                return str(candidate)
        digest = int.from_bytes(hashlib.sha256(uid.encode()).digest()[:1], "big")
        return str(network.network_address + 2 + digest % 250)

    def _forget(self, live: set[str]) -> None:
        """Remove the folders of pods that are gone: those found on disk at the first pass
        (a persistent sandbox restarted), then those this kubelet made."""
        if self._made is None:
            self._made = {}
            if self._root.is_dir():
                for found in self._root.glob("*/kubelet/pods/*"):
                    self._made[found.name] = found
        for uid in [u for u in self._made if u not in live]:
            shutil.rmtree(self._made.pop(uid), ignore_errors=True)


def _exit_code(pod: Obj) -> int | None:
    """The exit code a pod's containers end with, if told and its restart policy lets them."""
    given = (pod["metadata"].get("annotations") or {}).get(EXIT_CODE)
    policy = objects.dig(pod, "spec", "restartPolicy") or "Always"
    if given is None or policy == "Always":
        return None
    try:
        return int(given)
    except ValueError:
        return None


def _ended(pod: Obj) -> Obj:
    """A running pod's status once its containers have ended with :func:`_exit_code`."""
    code = _exit_code(pod) or 0
    stamp = objects.now()
    status = dict(pod.get("status") or {}, phase="Succeeded" if code == 0 else "Failed")
    status["conditions"] = [
        dict(c, status="False", reason="PodCompleted" if code == 0 else "PodFailed",
             lastTransitionTime=stamp) if c.get("type") in ("Ready", "ContainersReady")
        else c for c in status.get("conditions") or []
    ]  # fmt: skip
    ended = []
    for container in status.get("containerStatuses") or []:
        started = objects.dig(container, "state", "running", "startedAt") or stamp
        terminated = {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                      "startedAt": started, "finishedAt": stamp}  # fmt: skip
        ended.append(dict(container, ready=False, started=False, state={"terminated": terminated}))
    status["containerStatuses"] = ended
    return status


def _containers(pod: Obj, part: str) -> list[Obj]:
    return [c for c in objects.dig(pod, "spec", part) or [] if isinstance(c, dict)]


def _container(
    container: Obj, started: str | None, *, done: bool = False, reason: str = "ContainerCreating"
) -> Obj:
    image = str(container.get("image") or "")
    digest = hashlib.sha256(image.encode()).hexdigest()
    out: Obj = {
        "name": container.get("name"),
        "image": image,
        "imageID": f"{image.split(':')[0]}@sha256:{digest}" if started else "",
        "ready": started is not None and not done,
        "restartCount": 0,
        "started": started is not None and not done,
    }
    if started is None:
        out["state"] = {"waiting": {"reason": reason}}
    elif done:
        out["state"] = {"terminated": {"exitCode": 0, "reason": "Completed",
                                       "startedAt": started, "finishedAt": started}}  # fmt: skip
        out["containerID"] = "containerd://" + os.urandom(32).hex()
    else:
        out["state"] = {"running": {"startedAt": started}}
        out["containerID"] = "containerd://" + os.urandom(32).hex()
    return out


def _qos(pod: Obj) -> str:
    limits_everywhere = True
    anything = False
    for container in _containers(pod, "containers"):
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        anything |= bool(requests or limits)
        if not (limits.get("cpu") and limits.get("memory")) or any(
            requests.get(k, limits[k]) != limits[k] for k in ("cpu", "memory")
        ):
            limits_everywhere = False
    if not anything:
        return "BestEffort"
    return "Guaranteed" if limits_everywhere else "Burstable"
