"""Items a backed-up item brings along, as Velero's item actions add them (§2.4, §2.5).

* a pod: the PersistentVolumeClaims its volumes mount and its PriorityClass;
* a PersistentVolumeClaim: the PersistentVolume bound to it;
* a ServiceAccount: the ClusterRoleBindings naming it as a subject and their ClusterRoles, and
  the RoleBindings of its namespace naming it and their Roles (or ClusterRoles); a role comes
  only with a binding that was taken;
* a custom object: its CustomResourceDefinition (the collector appends those at the end).

:func:`direct` reads references from an object's body; :class:`RbacIndex` answers for service
accounts from the bindings, listed once per scope and kept as names only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from strongroom.kube import bodies

PODS = "pods"
PVCS = "persistentvolumeclaims"
PVS = "persistentvolumes"
SERVICE_ACCOUNTS = "serviceaccounts"
PRIORITY_CLASSES = "priorityclasses.scheduling.k8s.io"
CLUSTER_ROLE_BINDINGS = "clusterrolebindings.rbac.authorization.k8s.io"
CLUSTER_ROLES = "clusterroles.rbac.authorization.k8s.io"
ROLE_BINDINGS = "rolebindings.rbac.authorization.k8s.io"
ROLES = "roles.rbac.authorization.k8s.io"
CRDS = "customresourcedefinitions.apiextensions.k8s.io"
_RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclasses.dataclass(frozen=True)
class Ref:
    """One item by group-resource, namespace (None: cluster-scoped) and name."""

    group_resource: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.group_resource} {where}"


def _strings(values: Iterable[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str) and v]


def direct(group_resource: str, obj: bodies.KubeObject) -> list[Ref]:
    """What ``obj`` (of ``group_resource``) refers to by name in its own body."""
    spec: Any = obj.get("spec") or {}
    if not isinstance(spec, dict):
        return []
    namespace = obj.get("metadata", {}).get("namespace")
    if group_resource == PODS:
        volumes = spec.get("volumes") or []
        claims = _strings(
            (v.get("persistentVolumeClaim") or {}).get("claimName")
            for v in volumes
            if isinstance(v, dict) and isinstance(v.get("persistentVolumeClaim"), dict)
        )
        refs = [Ref(PVCS, namespace, c) for c in dict.fromkeys(claims)]
        priority = spec.get("priorityClassName")
        if isinstance(priority, str) and priority:
            refs.append(Ref(PRIORITY_CLASSES, None, priority))
        return refs
    if group_resource == PVCS:
        volume = spec.get("volumeName")
        return [Ref(PVS, None, volume)] if isinstance(volume, str) and volume else []
    return []


def _role_ref(binding: bodies.KubeObject, namespace: str | None) -> Ref | None:
    raw: Any = binding.get("roleRef")
    if not isinstance(raw, dict) or raw.get("apiGroup", _RBAC_GROUP) != _RBAC_GROUP:
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        return None
    if raw.get("kind") == "ClusterRole":
        return Ref(CLUSTER_ROLES, None, name)
    if raw.get("kind") == "Role" and namespace:
        return Ref(ROLES, namespace, name)
    return None


def _accounts(binding: bodies.KubeObject, namespace: str | None) -> list[tuple[str, str]]:
    """(namespace, name) of every ServiceAccount subject of ``binding``."""
    found = []
    subjects: Any = binding.get("subjects") or []
    for subject in subjects if isinstance(subjects, list) else []:
        if not isinstance(subject, dict) or subject.get("kind") != "ServiceAccount":
            continue
        name, ns = subject.get("name"), subject.get("namespace") or namespace
        if isinstance(name, str) and isinstance(ns, str) and name and ns:
            found.append((ns, name))
    return found


Lister = Callable[[str, str | None], Iterable[bodies.KubeObject]]


class RbacIndex:
    """Which bindings name a service account; bindings are listed lazily through ``lister``
    (group-resource, namespace) and remembered as refs only."""

    def __init__(self, lister: Lister) -> None:
        self._lister = lister
        self._cluster: dict[tuple[str, str], list[tuple[Ref, Ref | None]]] | None = None
        self._namespaced: dict[str, dict[str, list[tuple[Ref, Ref | None]]]] = {}

    def _index(
        self, group_resource: str, binding_namespace: str | None
    ) -> dict[tuple[str, str], list[tuple[Ref, Ref | None]]]:
        index: dict[tuple[str, str], list[tuple[Ref, Ref | None]]] = {}
        for binding in self._lister(group_resource, binding_namespace):
            name = binding.get("metadata", {}).get("name")
            if not name:
                continue
            pair = (
                Ref(group_resource, binding_namespace, name),
                _role_ref(binding, binding_namespace),
            )
            for account in _accounts(binding, binding_namespace):
                index.setdefault(account, []).append(pair)
        return index

    def for_account(self, namespace: str, name: str) -> list[tuple[Ref, Ref | None]]:
        """(binding, its role) for every binding naming ServiceAccount ``namespace/name``."""
        if self._cluster is None:
            self._cluster = self._index(CLUSTER_ROLE_BINDINGS, None)
        if namespace not in self._namespaced:
            local = self._index(ROLE_BINDINGS, namespace)
            self._namespaced[namespace] = {
                account_name: pairs
                for (account_ns, account_name), pairs in local.items()
                if account_ns == namespace
            }
        found = [
            *self._cluster.get((namespace, name), []),
            *self._namespaced[namespace].get(name, []),
        ]
        return list(dict.fromkeys(found))
