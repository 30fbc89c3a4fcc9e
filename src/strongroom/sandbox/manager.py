"""The controllers that make a sandbox run its pods: workloads, binder, scheduler, kubelets.

One background thread, woken by any change to pods, claims, volumes, storage classes, nodes,
ConfigMaps, Secrets or workloads (and once a second regardless), runs the passes in turn under
the store lock until none changes anything: the workload controllers make pods and claims
(:mod:`replicasets`, :mod:`statefulsets`, :mod:`daemonsets`, :mod:`jobs`), :mod:`storage`
binds and provisions volumes, the scheduler binds pods to nodes (:mod:`scheduling`), and
:mod:`kubelet` starts the pods it can and makes their volume folders. Writes go through the
store like any other, so watches see every step.

Files live under ``root``: ``root/storage/<volume>`` for volume data and
``root/nodes/<node>/kubelet`` for each node's kubelet folder.
"""

from __future__ import annotations

import pathlib
import threading
from typing import Any

from strongroom.sandbox import (
    cluster,
    daemonsets,
    jobs,
    kubelet,
    nodes,
    objects,
    replicasets,
    scheduling,
    statefulsets,
    storage,
    store,
)

Obj = dict[str, Any]

WATCHED = {
    kubelet.PODS,
    storage.PVCS,
    storage.PVS,
    storage.CLASSES,
    nodes.NODES,
    kubelet.CONFIG_MAPS,
    kubelet.SECRETS,
    replicasets.DEPLOYMENTS,
    replicasets.REPLICA_SETS,
    statefulsets.STATEFUL_SETS,
    daemonsets.DAEMON_SETS,
    jobs.JOBS,
}
#: Passes in a row before giving up on settling (each pass moves every object one step).
MAX_PASSES = 20


class Manager:
    """The binder, scheduler and kubelets of one cluster, in one thread."""

    def __init__(self, c: cluster.Cluster, root: pathlib.Path) -> None:
        self._cluster = c
        self._store = c.store
        self.volumes = storage.Storage(c.store, root / "storage")
        self.kubelet = kubelet.Kubelet(c.store, root / "nodes", self.volumes)
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-manager", daemon=True)
        c.store.add_listener(self._observe)

    def _observe(self, event: store.Event) -> None:
        if event.group_resource in WATCHED:
            self._wake.set()

    def start(self) -> None:
        self.settle()
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            if self._stopped.is_set() or self._store.closed:
                return
            self.settle()

    def settle(self) -> None:
        """Run every pass until nothing changes."""
        for _ in range(MAX_PASSES):
            with self._store.lock:
                if self._store.closed:
                    return
                changed = replicasets.reconcile(self._cluster)
                changed |= statefulsets.reconcile(self._cluster)
                changed |= daemonsets.reconcile(self._cluster)
                changed |= jobs.reconcile(self._cluster)
                changed |= self.volumes.reconcile()
                changed |= self.schedule()
                changed |= self.kubelet.reconcile()
            if not changed:
                return

    # -- the scheduler --------------------------------------------------------------------

    def schedule(self) -> bool:
        """Bind every pod without a node that can go somewhere; note why the others cannot."""
        _, pods = self._store.items(kubelet.PODS, None)
        waiting = [
            p
            for p in pods
            if not objects.dig(p, "spec", "nodeName")
            and objects.dig(p, "status", "phase") == "Pending"
            and not p["metadata"].get("deletionTimestamp")
        ]
        if not waiting:
            return False
        _, all_nodes = self._store.items(nodes.NODES, None)
        per_node: dict[str, int] = {}
        for pod in pods:
            name = objects.dig(pod, "spec", "nodeName")
            if name:
                per_node[name] = per_node.get(name, 0) + 1
        changed = False
        for pod in waiting:
            problem, affinities, later = self._claims_of(pod)
            node_name, message = (
                (None, problem)
                if problem
                else scheduling.choose(pod, all_nodes, per_node, affinities)
            )
            if node_name is None:
                changed |= self._unschedulable(pod, message)
                continue
            per_node[node_name] = per_node.get(node_name, 0) + 1
            for claim in later:
                annotations = dict(claim["metadata"].get("annotations") or {})
                annotations[storage.SELECTED_NODE] = node_name
                meta = dict(claim["metadata"], annotations=annotations)
                self._store.put(storage.PVCS, dict(claim, metadata=meta))
            self._bind(pod, node_name)
            changed = True
        return changed

    def _claims_of(self, pod: Obj) -> tuple[str, list[Obj], list[Obj]]:
        """Why the pod's claims keep it off every node (or ""), the node affinities of the
        volumes they are bound to, and the claims that wait for this pod to pick a node."""
        namespace = str(pod["metadata"].get("namespace") or "")
        affinities: list[Obj] = []
        later: list[Obj] = []
        for volume in objects.dig(pod, "spec", "volumes") or []:
            name = objects.dig(volume, "persistentVolumeClaim", "claimName")
            if not name:
                continue
            claim = self._store.get(storage.PVCS, namespace, str(name))
            if claim is None:
                return f'persistentvolumeclaim "{name}" not found', [], []
            if objects.dig(claim, "status", "phase") == "Bound":
                pv = self._store.get(storage.PVS, "", str(objects.dig(claim, "spec", "volumeName")))
                required = objects.dig(pv, "spec", "nodeAffinity", "required") if pv else None
                if required:
                    affinities.append(required)
            elif self.volumes.binding_mode(claim) == "WaitForFirstConsumer":
                selected = (claim["metadata"].get("annotations") or {}).get(storage.SELECTED_NODE)
                if not selected:
                    later.append(claim)
            else:
                return "pod has unbound immediate PersistentVolumeClaims", [], []
        return "", affinities, later

    def _bind(self, pod: Obj, node_name: str) -> None:
        conditions = [c for c in objects.dig(pod, "status", "conditions") or []
                      if c.get("type") != "PodScheduled"]  # fmt: skip
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": objects.now()})  # fmt: skip
        status = dict(pod.get("status") or {}, conditions=conditions)
        status.pop("message", None)
        status.pop("reason", None)
        spec = dict(pod.get("spec") or {}, nodeName=node_name)
        self._store.put(kubelet.PODS, dict(pod, spec=spec, status=status))

    def _unschedulable(self, pod: Obj, message: str) -> bool:
        conditions = objects.dig(pod, "status", "conditions") or []
        if any(c.get("type") == "PodScheduled" and c.get("message") == message for c in conditions):
            return False
        condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                     "message": message, "lastProbeTime": None,
                     "lastTransitionTime": objects.now()}  # fmt: skip
        others = [c for c in conditions if c.get("type") != "PodScheduled"]
        status = dict(pod.get("status") or {}, conditions=[*others, condition])
        self._store.put(kubelet.PODS, dict(pod, status=status))
        return True
