"""Server-set metadata and small helpers on JSON objects."""

from __future__ import annotations

import copy
import datetime
import secrets
import uuid
from typing import Any

from strongroom.sandbox import catalog

Obj = dict[str, Any]

#: The alphabet real servers use for generateName suffixes (no vowels, no look-alikes).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def now() -> str:
    """The current time as Kubernetes writes it (RFC 3339, seconds, UTC)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid() -> str:
    return str(uuid.uuid4())


def generated_name(prefix: str) -> str:
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(5))
    return f"{prefix[:58]}{suffix}"


def deep(obj: Obj) -> Obj:
    return copy.deepcopy(obj)


def meta(obj: Obj) -> dict[str, Any]:
    """``obj.metadata``, created empty when missing or not a mapping."""
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def spec_part(obj: Obj) -> Obj:
    """Everything that bumps ``generation`` when it changes: all but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "kind", "apiVersion")}


#: Built-in resources whose objects carry ``metadata.generation``.
_GENERATION = frozenset(
    {
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("apps", "replicasets"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
        ("", "replicationcontrollers"),
        ("networking.k8s.io", "ingresses"),
        ("networking.k8s.io", "networkpolicies"),
        ("policy", "poddisruptionbudgets"),
        ("autoscaling", "horizontalpodautoscalers"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicies"),
    }
)


def has_generation(rtype: catalog.ResourceType, obj: Obj) -> bool:
    """Custom objects always carry a generation; built-ins of the kinds that have one."""
    del obj
    return rtype.custom or rtype.group_resource in _GENERATION


def with_type(obj: Obj, rtype: catalog.ResourceType) -> Obj:
    """A shallow copy presenting ``obj`` in the group/version of ``rtype``."""
    out = {"kind": rtype.kind, "apiVersion": rtype.group_version}
    out.update((k, v) for k, v in obj.items() if k != "kind" and k != "apiVersion")
    return out


def dig(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]...`` or None when any step is missing."""
    for step in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(step)
    return obj
