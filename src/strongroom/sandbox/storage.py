"""Persistent volumes: the default StorageClass, its provisioner, and the binder.

What K3s's local-path provisioner and the PV controller do, as far as a backup, a restore or a
migration can tell:

- A default StorageClass ``local-path`` (``WaitForFirstConsumer``, ``Delete``) whose volumes
  are made by the sandbox's CSI driver :data:`DRIVER`; a StorageClass of any other name with the
  same provisioner works the same, in either binding mode, with either reclaim policy.
- A claim without ``storageClassName`` gets the default class (retroactive default class
  assignment); ``""`` asks for a static volume without a class.
- A claim binds to the volume named by its ``volumeName``, else to a volume whose
  ``claimRef`` names it, else to the smallest Available volume of its class that is big
  enough, has its access modes and matches its selector; failing that, a class with this
  provisioner makes one: at once (``Immediate``) or once the scheduler has picked a node for a
  pod that uses it (``WaitForFirstConsumer``: the claim's ``volume.kubernetes.io/selected-node``
  annotation), with node affinity to that node.
- A provisioned volume is ``pvc-<claim uid>``, its capacity the claim's request; its data lives
  in a folder of its own, :meth:`Storage.folder`. When its claim goes, a volume with the
  ``Delete`` policy goes with its folder; a ``Retain`` one becomes Released and keeps it.
"""

from __future__ import annotations

import pathlib
import re
import shutil
from typing import Any

from strongroom.sandbox import nodes, objects, quantities, selectors, store

Obj = dict[str, Any]

PVCS = ("", "persistentvolumeclaims")
PVS = ("", "persistentvolumes")
CLASSES = ("storage.k8s.io", "storageclasses")
DRIVER = "local.csi.strongroom.io"
DEFAULT_CLASS = "local-path"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
_HANDLE = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


def default_class() -> Obj:
    """The StorageClass every fresh sandbox has."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": DEFAULT_CLASS, "annotations": {DEFAULT_ANNOTATION: "true"}},
        "provisioner": DRIVER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }


def requested_bytes(claim: Obj) -> int:
    text = objects.dig(claim, "spec", "resources", "requests", "storage")
    return (quantities.parse(str(text)) or 0) if text is not None else 0


class Storage:
    """The provisioner and binder of one sandbox, its volumes' folders under ``root``."""

    def __init__(self, objects_store: store.Store, root: pathlib.Path) -> None:
        self._store = objects_store
        self._root = root

    def folder(self, volume: Obj) -> pathlib.Path | None:
        """Where a volume of the sandbox's driver keeps its data (None for other volumes)."""
        csi = objects.dig(volume, "spec", "csi") or {}
        handle = csi.get("volumeHandle")
        if csi.get("driver") != DRIVER or not isinstance(handle, str):
            return None
        if not _HANDLE.fullmatch(handle):
            return None
        return self._root / handle

    def reconcile(self) -> bool:
        """One pass of the binder and provisioner; True if anything changed."""
        changed = self._default_classes()
        changed |= self._volume_phases()
        _, claims = self._store.items(PVCS, None)
        for claim in claims:
            if objects.dig(claim, "status", "phase") == "Pending" and not claim["metadata"].get(
                "deletionTimestamp"
            ):
                changed |= self._bind(claim)
        return changed

    # -- classes --------------------------------------------------------------------------

    def _class(self, name: str | None) -> Obj | None:
        return self._store.get(CLASSES, "", name) if name else None

    def default_class_name(self) -> str | None:
        _, classes = self._store.items(CLASSES, None)
        for item in sorted(classes, key=lambda c: c["metadata"]["name"]):
            annotations = item["metadata"].get("annotations") or {}
            if annotations.get(DEFAULT_ANNOTATION) == "true":
                return str(item["metadata"]["name"])
        return None

    def _default_classes(self) -> bool:
        default = self.default_class_name()
        if default is None:
            return False
        changed = False
        _, claims = self._store.items(PVCS, None)
        for claim in claims:
            spec = claim.get("spec") or {}
            if "storageClassName" not in spec and not spec.get("volumeName"):
                self._store.put(PVCS, dict(claim, spec=dict(spec, storageClassName=default)))
                changed = True
        return changed

    def binding_mode(self, claim: Obj) -> str:
        """``Immediate`` or ``WaitForFirstConsumer`` (a claim without a known class: Immediate)."""
        found = self._class(objects.dig(claim, "spec", "storageClassName"))
        return str((found or {}).get("volumeBindingMode") or "Immediate")

    # -- volumes --------------------------------------------------------------------------

    def _volume_phases(self) -> bool:
        changed = False
        _, volumes = self._store.items(PVS, None)
        for volume in volumes:
            phase = objects.dig(volume, "status", "phase")
            ref = objects.dig(volume, "spec", "claimRef")
            if phase == "Pending" and not ref:
                self._set_phase(volume, "Available")
                changed = True
            elif phase == "Bound" and not self._claim_holds(volume):
                changed |= self._release(volume)
        return changed

    def _claim_holds(self, volume: Obj) -> bool:
        ref = objects.dig(volume, "spec", "claimRef") or {}
        claim = self._store.get(PVCS, str(ref.get("namespace") or ""), str(ref.get("name") or ""))
        return claim is not None and claim["metadata"].get("uid") == ref.get("uid")

    def _release(self, volume: Obj) -> bool:
        if volume.get("spec", {}).get("persistentVolumeReclaimPolicy", "Retain") == "Delete":
            folder = self.folder(volume)
            self._store.remove(PVS, "", volume["metadata"]["name"])
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            return True
        self._set_phase(volume, "Released")
        return True

    def _set_phase(self, volume: Obj, phase: str) -> Obj:
        status = dict(volume.get("status") or {}, phase=phase)
        status["lastPhaseTransitionTime"] = objects.now()
        return self._store.put(PVS, dict(volume, status=status))

    # -- binding --------------------------------------------------------------------------

    def _bind(self, claim: Obj) -> bool:
        volume = self._match(claim)
        if volume is None:
            volume = self._provision(claim)
            if volume is None:
                return False
        self._attach(claim, volume)
        return True

    def _match(self, claim: Obj) -> Obj | None:
        meta, spec = claim["metadata"], claim.get("spec") or {}
        wanted = spec.get("volumeName")
        if wanted:
            volume = self._store.get(PVS, "", wanted)
            return volume if volume is not None and self._free_for(volume, claim) else None
        _, volumes = self._store.items(PVS, None)
        for volume in volumes:
            ref = objects.dig(volume, "spec", "claimRef") or {}
            if (
                ref.get("name") == meta["name"]
                and ref.get("namespace") == meta.get("namespace")
                and self._free_for(volume, claim)
            ):
                return volume
        fitting = [v for v in volumes if self._fits(v, claim)]
        if not fitting:
            return None
        return min(fitting, key=lambda v: (_capacity(v), v["metadata"]["name"]))

    def _free_for(self, volume: Obj, claim: Obj) -> bool:
        if objects.dig(volume, "status", "phase") not in ("Available", "Pending"):
            ref = objects.dig(volume, "spec", "claimRef") or {}
            if ref.get("uid") != claim["metadata"].get("uid"):
                return False
        ref = objects.dig(volume, "spec", "claimRef") or {}
        meta = claim["metadata"]
        if ref and (ref.get("name"), ref.get("namespace")) != (meta["name"], meta.get("namespace")):
            return False
        return not ref.get("uid") or ref.get("uid") == meta.get("uid")

    def _fits(self, volume: Obj, claim: Obj) -> bool:
        spec, wanted = volume.get("spec") or {}, claim.get("spec") or {}
        if objects.dig(volume, "status", "phase") != "Available" or spec.get("claimRef"):
            return False
        if (spec.get("storageClassName") or "") != (wanted.get("storageClassName") or ""):
            return False
        if not set(wanted.get("accessModes") or []) <= set(spec.get("accessModes") or []):
            return False
        labels = objects.dig(volume, "metadata", "labels") or {}
        return _capacity(volume) >= requested_bytes(claim) and selectors.matches(
            wanted.get("selector"), labels
        )

    def _provision(self, claim: Obj) -> Obj | None:
        spec = claim.get("spec") or {}
        found = self._class(spec.get("storageClassName"))
        if found is None or found.get("provisioner") != DRIVER or spec.get("volumeName"):
            return None
        node_name = (claim["metadata"].get("annotations") or {}).get(SELECTED_NODE)
        waits = found.get("volumeBindingMode") == "WaitForFirstConsumer"
        if waits and not node_name:
            return None
        name = f"pvc-{claim['metadata']['uid']}"
        volume_spec: Obj = {
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "capacity": {"storage": objects.dig(spec, "resources", "requests", "storage") or "1Gi"},
            "csi": {"driver": DRIVER, "volumeHandle": name, "fsType": "ext4"},
            "persistentVolumeReclaimPolicy": found.get("reclaimPolicy") or "Delete",
            "storageClassName": found["metadata"]["name"],
            "volumeMode": spec.get("volumeMode") or "Filesystem",
        }
        if waits:
            volume_spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": nodes.HOSTNAME_LABEL, "operator": "In", "values": [node_name]}
            ]}]}}  # fmt: skip
        volume: Obj = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": name,
                "uid": objects.new_uid(),
                "creationTimestamp": objects.now(),
                "annotations": {"pv.kubernetes.io/provisioned-by": DRIVER},
            },
            "spec": volume_spec,
            "status": {"phase": "Pending"},
        }
        folder = self.folder(volume)
        assert folder is not None
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o755, exist_ok=True)
        return self._store.put(PVS, volume)

    def _attach(self, claim: Obj, volume: Obj) -> None:
        meta = claim["metadata"]
        ref = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        }
        spec = dict(volume.get("spec") or {}, claimRef=ref)
        status = {"phase": "Bound", "lastPhaseTransitionTime": objects.now()}
        volume = self._store.put(PVS, dict(volume, spec=spec, status=status))
        annotations = dict(meta.get("annotations") or {})
        annotations["pv.kubernetes.io/bind-completed"] = "yes"
        if not (claim.get("spec") or {}).get("volumeName"):
            annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
        if volume["metadata"].get("annotations", {}).get("pv.kubernetes.io/provisioned-by"):
            annotations["volume.beta.kubernetes.io/storage-provisioner"] = DRIVER
            annotations["volume.kubernetes.io/storage-provisioner"] = DRIVER
        claim_status = {
            "phase": "Bound",
            "accessModes": list(volume["spec"].get("accessModes") or []),
            "capacity": dict(volume["spec"].get("capacity") or {}),
        }
        self._store.put(
            PVCS,
            dict(
                claim,
                metadata=dict(meta, annotations=annotations),
                spec=dict(claim.get("spec") or {}, volumeName=volume["metadata"]["name"]),
                status=claim_status,
            ),
        )


def _capacity(volume: Obj) -> int:
    text = objects.dig(volume, "spec", "capacity", "storage")
    return (quantities.parse(str(text)) or 0) if text is not None else 0
