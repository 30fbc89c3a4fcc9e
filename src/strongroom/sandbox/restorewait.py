"""What the restore helper init container does, as the sandbox runs no containers.

A restore that brings back pod volume data adds an init container named :data:`NAME` to the
pod (``strongroom restore-helper --marker TOKEN PATH...``, each PATH the mount of a volume to
restore); it ends once every ``PATH/.strongroom/TOKEN`` exists, which the node agent writes
after restoring that volume. The kubelet stand-in asks :func:`pending` before starting a pod:
the pod stays initializing until the markers are there, as it would on a node.
"""

from __future__ import annotations

import pathlib
from typing import Any

Obj = dict[str, Any]

NAME = "strongroom-restore-wait"
MARKER_DIR = ".strongroom"


def pending(pod: Obj, folders: dict[str, pathlib.Path]) -> str | None:
    """Why the pod's restore-wait init container is still running, or None when it has
    ended (or the pod has none). ``folders``: the pod's volume folders by volume name."""
    spec = pod.get("spec") or {}
    helper = next(
        (
            c
            for c in spec.get("initContainers") or []
            if isinstance(c, dict) and c.get("name") == NAME
        ),
        None,
    )
    if helper is None:
        return None
    args = [str(a) for a in helper.get("args") or []]
    if len(args) < 2 or args[0] != "--marker":
        return None  # not the helper's arguments: it would exit with a usage error
    token, paths = args[1], args[2:]
    mounts = {str(m.get("mountPath")): str(m.get("name")) for m in helper.get("volumeMounts") or []}
    for path in paths:
        volume = mounts.get(path)
        folder = folders.get(volume or "")
        if folder is None or not (folder / MARKER_DIR / token).exists():
            return f"waiting for the restore of volume {volume} ({NAME})"
    return None
