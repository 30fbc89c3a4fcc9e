"""Server-side printing columns of ``kubectl get``, per resource.

The columns follow the API server's printers for the common built-in kinds (Pod
READY/STATUS/RESTARTS, Deployment READY/UP-TO-DATE/AVAILABLE, Service
TYPE/CLUSTER-IP/EXTERNAL-IP/PORT(S), ...); custom resources use their CRD's
``additionalPrinterColumns``; every other kind gets NAME and AGE. Columns with a priority above
0 appear only with ``-o wide``. Ages are rendered as the API server renders durations.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Callable
from typing import Any

from strongroom.sandbox import scale

Obj = dict[str, Any]
Cell = Callable[[Obj], Any]


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    cell: Cell
    type: str = "string"
    priority: int = 0
    format: str = ""

    def definition(self) -> Obj:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.name,
            "priority": self.priority,
        }


def human_duration(seconds: float) -> str:
    """A duration as the API server prints ages: ``45s``, ``5m30s``, ``3h``, ``12d``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes, hours = s // 60, s // 3600
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years, days = hours // (24 * 365), (hours // 24) % 365
    if hours < 24 * 365 * 8:
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{years}y"


def _get(obj: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            obj = obj[key] if isinstance(obj, list) and len(obj) > key else None
        else:
            obj = obj.get(key) if isinstance(obj, dict) else None
        if obj is None:
            return None
    return obj


def _age(obj: Obj) -> str:
    created = _get(obj, "metadata", "creationTimestamp")
    if not isinstance(created, str):
        return "<unknown>"
    try:
        then = datetime.datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    return human_duration((datetime.datetime.now(datetime.UTC) - then).total_seconds())


def _count(*path: str) -> Cell:
    return lambda obj: len(_get(obj, *path) or {})


def _int(*path: str) -> Cell:
    return lambda obj: int(_get(obj, *path) or 0)


def _text(*path: str, default: str = "<none>") -> Cell:
    return lambda obj: str(_get(obj, *path) or default)


def _containers(obj: Obj) -> list[Obj]:
    spec = _get(obj, "spec", "template", "spec") or _get(obj, "spec", "jobTemplate", "spec",
                                                          "template", "spec") or {}  # fmt: skip
    return list(spec.get("containers") or [])


def _names(obj: Obj) -> str:
    return ",".join(str(c.get("name", "")) for c in _containers(obj)) or "<none>"


def _images(obj: Obj) -> str:
    return ",".join(str(c.get("image", "")) for c in _containers(obj)) or "<none>"


def _selector(obj: Obj) -> str:
    return scale.selector_text(_get(obj, "spec", "selector")) or "<none>"


def _pod_ready(obj: Obj) -> str:
    statuses = _get(obj, "status", "containerStatuses") or []
    total = len(_get(obj, "spec", "containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(obj: Obj) -> str:
    if _get(obj, "metadata", "deletionTimestamp"):
        return "Terminating"
    return str(_get(obj, "status", "reason") or _get(obj, "status", "phase") or "Pending")


def _restarts(obj: Obj) -> int:
    return sum(
        int(s.get("restartCount") or 0) for s in _get(obj, "status", "containerStatuses") or []
    )


def _ready_of(desired: str) -> Cell:
    return lambda obj: (
        f"{int(_get(obj, 'status', 'readyReplicas') or 0)}/"
        + str(int(_get(obj, "spec", desired) if _get(obj, "spec", desired) is not None else 1))
    )


def _ports(obj: Obj) -> str:
    parts = []
    for port in _get(obj, "spec", "ports") or []:
        text = f"{port.get('port')}"
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        parts.append(f"{text}/{port.get('protocol', 'TCP')}")
    return ",".join(parts) or "<none>"


def _external_ip(obj: Obj) -> str:
    ingress = _get(obj, "status", "loadBalancer", "ingress") or []
    found = [i.get("ip") or i.get("hostname") for i in ingress] + list(
        _get(obj, "spec", "externalIPs") or []
    )
    if found:
        return ",".join(str(x) for x in found)
    if _get(obj, "spec", "type") == "LoadBalancer":
        return "<pending>"
    if _get(obj, "spec", "type") == "ExternalName":
        return str(_get(obj, "spec", "externalName") or "<none>")
    return "<none>"


def _access_modes(obj: Obj) -> str:
    modes = _get(obj, "status", "accessModes") or _get(obj, "spec", "accessModes") or []
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
             "ReadWriteOncePod": "RWOP"}  # fmt: skip
    return ",".join(short.get(m, m) for m in modes)


def _hosts(obj: Obj) -> str:
    hosts = [r.get("host") for r in _get(obj, "spec", "rules") or [] if r.get("host")]
    return ",".join(hosts) or "*"


NAME = Column("Name", lambda obj: _get(obj, "metadata", "name"), format="name")
AGE = Column("Age", _age)
_CREATED_AT = Column("Created At", _text("metadata", "creationTimestamp"), format="date")


def _role_ref(obj: Obj) -> str:
    return f"{_get(obj, 'roleRef', 'kind')}/{_get(obj, 'roleRef', 'name')}"


_BY_RESOURCE: dict[tuple[str, str], tuple[Column, ...]] = {
    ("", "pods"): (
        Column("Ready", _pod_ready),
        Column("Status", _pod_status),
        Column("Restarts", _restarts, type="string"),
        AGE,
        Column("IP", _text("status", "podIP"), priority=1),
        Column("Node", _text("spec", "nodeName"), priority=1),
    ),
    ("apps", "deployments"): (
        Column("Ready", _ready_of("replicas")),
        Column("Up-to-date", _int("status", "updatedReplicas"), type="integer"),
        Column("Available", _int("status", "availableReplicas"), type="integer"),
        AGE,
        Column("Containers", _names, priority=1),
        Column("Images", _images, priority=1),
        Column("Selector", _selector, priority=1),
    ),
    ("apps", "statefulsets"): (
        Column("Ready", _ready_of("replicas")),
        AGE,
        Column("Containers", _names, priority=1),
        Column("Images", _images, priority=1),
    ),
    ("apps", "replicasets"): (
        Column("Desired", _int("spec", "replicas"), type="integer"),
        Column("Current", _int("status", "replicas"), type="integer"),
        Column("Ready", _int("status", "readyReplicas"), type="integer"),
        AGE,
        Column("Containers", _names, priority=1),
        Column("Images", _images, priority=1),
        Column("Selector", _selector, priority=1),
    ),
    ("apps", "daemonsets"): (
        Column("Desired", _int("status", "desiredNumberScheduled"), type="integer"),
        Column("Current", _int("status", "currentNumberScheduled"), type="integer"),
        Column("Ready", _int("status", "numberReady"), type="integer"),
        Column("Up-to-date", _int("status", "updatedNumberScheduled"), type="integer"),
        Column("Available", _int("status", "numberAvailable"), type="integer"),
        Column(
            "Node Selector",
            lambda o: (
                ",".join(
                    f"{k}={v}"
                    for k, v in (_get(o, "spec", "template", "spec", "nodeSelector") or {}).items()
                )
                or "<none>"
            ),
        ),  # fmt: skip
        AGE,
    ),
    ("", "services"): (
        Column("Type", _text("spec", "type", default="ClusterIP")),
        Column("Cluster-IP", _text("spec", "clusterIP")),
        Column("External-IP", _external_ip),
        Column("Port(s)", _ports),
        AGE,
        Column(
            "Selector",
            lambda o: (
                ",".join(f"{k}={v}" for k, v in (_get(o, "spec", "selector") or {}).items())
                or "<none>"
            ),
            priority=1,
        ),  # fmt: skip
    ),
    ("", "configmaps"): (
        Column(
            "Data",
            lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {}),
            type="integer",
        ),  # fmt: skip
        AGE,
    ),
    ("", "secrets"): (
        Column("Type", _text("type", default="Opaque")),
        Column("Data", _count("data"), type="integer"),
        AGE,
    ),
    ("", "namespaces"): (Column("Status", _text("status", "phase", default="Active")), AGE),
    ("", "serviceaccounts"): (Column("Secrets", _count("secrets"), type="integer"), AGE),
    ("", "persistentvolumeclaims"): (
        Column("Status", _text("status", "phase", default="Pending")),
        Column("Volume", _text("spec", "volumeName", default="")),
        Column("Capacity", _text("status", "capacity", "storage", default="")),
        Column("Access Modes", _access_modes),
        Column("StorageClass", _text("spec", "storageClassName", default="<unset>")),
        AGE,
    ),
    ("", "persistentvolumes"): (
        Column("Capacity", _text("spec", "capacity", "storage", default="")),
        Column("Access Modes", _access_modes),
        Column("Reclaim Policy", _text("spec", "persistentVolumeReclaimPolicy", default="")),
        Column("Status", _text("status", "phase", default="Pending")),
        Column(
            "Claim",
            lambda o: (
                "/".join(str(_get(o, "spec", "claimRef", k)) for k in ("namespace", "name"))
                if _get(o, "spec", "claimRef")
                else ""
            ),
        ),  # fmt: skip
        Column("StorageClass", _text("spec", "storageClassName", default="")),
        AGE,
    ),
    ("batch", "jobs"): (
        Column("Status", lambda o: "Complete" if _get(o, "status", "succeeded") else "Running"),
        Column(
            "Completions",
            lambda o: (
                f"{int(_get(o, 'status', 'succeeded') or 0)}/{_get(o, 'spec', 'completions') or 1}"
            ),
        ),  # fmt: skip
        AGE,
    ),
    ("batch", "cronjobs"): (
        Column("Schedule", _text("spec", "schedule", default="")),
        Column("Suspend", lambda o: str(bool(_get(o, "spec", "suspend")))),
        Column("Active", _count("status", "active"), type="integer"),
        Column("Last Schedule", lambda o: "<none>"),
        AGE,
    ),
    ("networking.k8s.io", "ingresses"): (
        Column("Class", _text("spec", "ingressClassName")),
        Column("Hosts", _hosts),
        Column(
            "Address",
            lambda o: ",".join(
                str(i.get("ip") or i.get("hostname"))
                for i in _get(o, "status", "loadBalancer", "ingress") or []
            ),
        ),  # fmt: skip
        Column("Ports", lambda o: "80, 443" if _get(o, "spec", "tls") else "80"),
        AGE,
    ),
    ("networking.k8s.io", "networkpolicies"): (
        Column("Pod-Selector", lambda o: scale.selector_text(_get(o, "spec", "podSelector"))),
        AGE,
    ),
    ("rbac.authorization.k8s.io", "roles"): (_CREATED_AT,),
    ("rbac.authorization.k8s.io", "clusterroles"): (_CREATED_AT,),
    ("rbac.authorization.k8s.io", "rolebindings"): (Column("Role", _role_ref), AGE),
    ("rbac.authorization.k8s.io", "clusterrolebindings"): (Column("Role", _role_ref), AGE),
    ("storage.k8s.io", "storageclasses"): (
        Column("Provisioner", _text("provisioner", default="")),
        Column("ReclaimPolicy", _text("reclaimPolicy", default="Delete")),
        Column("VolumeBindingMode", _text("volumeBindingMode", default="Immediate")),
        Column("AllowVolumeExpansion", lambda o: str(bool(o.get("allowVolumeExpansion"))).lower()),
        AGE,
    ),
    ("apiextensions.k8s.io", "customresourcedefinitions"): (
        Column("Created At", _text("metadata", "creationTimestamp"), format="date"),
    ),
}


def _jsonpath_cell(path: str) -> Cell:
    """A cell from a CRD printer column's simple JSONPath (``.spec.size``, ``.a[0].b``)."""
    steps: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.strip().lstrip("{").rstrip("}")):
        steps.append(int(part[1:-1]) if part.startswith("[") else part)

    def cell(obj: Obj) -> Any:
        value = _get(obj, *steps)
        return "<none>" if value is None else value

    return cell


def crd_columns(crd: Obj | None, version: str) -> tuple[Column, ...]:
    """The columns of a custom resource: its CRD's additionalPrinterColumns, else AGE."""
    for entry in _get(crd, "spec", "versions") or []:
        if entry.get("name") != version or not entry.get("additionalPrinterColumns"):
            continue
        columns = []
        for spec in entry["additionalPrinterColumns"]:
            path = str(spec.get("jsonPath", ""))
            cell = _age if path == ".metadata.creationTimestamp" else _jsonpath_cell(path)
            kind = str(spec.get("type", "string"))
            columns.append(Column(str(spec.get("name", "")), cell,
                                  type="string" if kind == "date" else kind,
                                  priority=int(spec.get("priority") or 0),
                                  format=str(spec.get("format", ""))))  # fmt: skip
        return tuple(columns)
    return (AGE,)


def columns_for(group_resource: tuple[str, str]) -> tuple[Column, ...]:
    """The columns after NAME of a built-in resource (NAME and AGE when none are known)."""
    return _BY_RESOURCE.get(group_resource, (AGE,))
