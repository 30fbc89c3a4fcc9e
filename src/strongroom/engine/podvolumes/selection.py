"""Which volumes of a pod a backup takes, by Velero's annotations and flag (docs/node-agent.md).

- opt-in (default): the volumes named in ``backup.velero.io/backup-volumes``;
- opt-out (``--default-volumes-to-fs-backup``): every volume but those named in
  ``backup.velero.io/backup-volumes-excludes``;
- only ``persistentVolumeClaim`` and ``emptyDir`` volumes: others are never taken (a warning
  when the opt-in annotation names one);
- a claim is taken once per backup, through a running pod that mounts it if there is one.
"""

from __future__ import annotations

import dataclasses
from collections import abc
from typing import Any

INCLUDE = "backup.velero.io/backup-volumes"
EXCLUDE = "backup.velero.io/backup-volumes-excludes"
SUPPORTED = ("persistentVolumeClaim", "emptyDir")


@dataclasses.dataclass(frozen=True)
class Chosen:
    """One pod volume to back up."""

    namespace: str
    pod: str
    pod_uid: str
    node: str
    running: bool
    volume: str
    claim: str | None  # the claim's name for a persistentVolumeClaim volume


def _names(annotations: dict[str, Any], key: str) -> list[str]:
    text = annotations.get(key)
    if not isinstance(text, str):
        return []
    return [name.strip() for name in text.split(",") if name.strip()]


def _kind(volume: dict[str, Any]) -> str:
    return next((k for k in volume if k != "name"), "")


def choose(pods: abc.Iterable[dict[str, Any]], *, opt_out: bool) -> tuple[list[Chosen], list[str]]:
    """The pod volumes to back up, and warnings about volumes named but not taken."""
    chosen: list[Chosen] = []
    warnings: list[str] = []
    claims: set[tuple[str, str]] = set()
    # a claim two pods mount is read through a running one when there is one
    ordered = sorted(pods, key=lambda p: (p.get("status") or {}).get("phase") != "Running")
    for pod in ordered:
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        annotations = meta.get("annotations") or {}
        volumes = {str(v.get("name")): v for v in spec.get("volumes") or [] if isinstance(v, dict)}
        if opt_out:
            excluded = set(_names(annotations, EXCLUDE))
            wanted = [n for n in volumes if n not in excluded and _kind(volumes[n]) in SUPPORTED]
        else:
            wanted = []
            for volume_name in _names(annotations, INCLUDE):
                volume = volumes.get(volume_name)
                if volume is None:
                    warnings.append(f"pod {namespace}/{name}: no volume {volume_name!r} to back up")
                elif _kind(volume) not in SUPPORTED:
                    warnings.append(f"pod {namespace}/{name}: volume {volume_name!r} is a "
                                    f"{_kind(volume)} volume, not backed up")  # fmt: skip
                else:
                    wanted.append(volume_name)
        for volume_name in dict.fromkeys(wanted):
            claim = (volumes[volume_name].get("persistentVolumeClaim") or {}).get("claimName")
            if claim is not None:
                if (namespace, str(claim)) in claims:
                    continue
                claims.add((namespace, str(claim)))
            chosen.append(
                Chosen(
                    namespace=namespace,
                    pod=name,
                    pod_uid=str(meta.get("uid") or ""),
                    node=str(spec.get("nodeName") or ""),
                    running=(pod.get("status") or {}).get("phase") == "Running",
                    volume=volume_name,
                    claim=None if claim is None else str(claim),
                )
            )
    return chosen, warnings
