"""The order in which a restore creates resources: Velero's default
``--restore-resource-priorities``, verbatim from ``pkg/cmd/server/config/config.go``.

CustomResourceDefinitions go first (their own pass, waited on until Established), then the
high priorities in order, then every other resource alphabetically, then the low priorities.
"""

from __future__ import annotations

import types
from collections.abc import Mapping

CRDS = "customresourcedefinitions.apiextensions.k8s.io"

#: Velero's high priorities, in order (``volumesnapshotclass`` is singular in Velero too).
HIGH: tuple[str, ...] = (
    "customresourcedefinitions",
    "namespaces",
    "storageclasses",
    "volumesnapshotclass.snapshot.storage.k8s.io",
    "volumesnapshotcontents.snapshot.storage.k8s.io",
    "volumesnapshots.snapshot.storage.k8s.io",
    "datauploads.velero.io",
    "persistentvolumes",
    "persistentvolumeclaims",
    "clusterroles",
    "roles",
    "serviceaccounts",
    "clusterrolebindings",
    "rolebindings",
    "secrets",
    "configmaps",
    "limitranges",
    "priorityclasses",
    "pods",
    "replicasets.apps",
    "clusterclasses.cluster.x-k8s.io",
    "endpoints",
    "services",
)

#: Velero's low priorities, in order.
LOW: tuple[str, ...] = (
    "clusterbootstraps.run.tanzu.vmware.com",
    "clusters.cluster.x-k8s.io",
    "clusterresourcesets.addons.cluster.x-k8s.io",
    "apps.kappctrl.k14s.io",
    "packageinstalls.packaging.carvel.dev",
)

#: Velero names some built-in group-resources without their group (``storageclasses``).
_BARE_GROUPS: dict[str, str] = {
    "customresourcedefinitions": "apiextensions.k8s.io",
    "storageclasses": "storage.k8s.io",
    "clusterroles": "rbac.authorization.k8s.io",
    "roles": "rbac.authorization.k8s.io",
    "clusterrolebindings": "rbac.authorization.k8s.io",
    "rolebindings": "rbac.authorization.k8s.io",
    "priorityclasses": "scheduling.k8s.io",
}


def _rank_table() -> Mapping[str, tuple[int, int]]:
    table: dict[str, tuple[int, int]] = {}
    for tier, names in ((0, HIGH), (2, LOW)):
        for index, name in enumerate(names):
            table.setdefault(name, (tier, index))
            if name in _BARE_GROUPS:
                table.setdefault(f"{name}.{_BARE_GROUPS[name]}", (tier, index))
    return types.MappingProxyType(table)


_RANKS = _rank_table()


def sort_key(group_resource: str) -> tuple[int, int, str]:
    """Sorts group-resources into restore order (see the module docstring)."""
    tier, index = _RANKS.get(group_resource, (1, 0))
    return (tier, index, group_resource)


def ordered(group_resources: set[str] | frozenset[str]) -> list[str]:
    """``group_resources`` in restore order."""
    return sorted(group_resources, key=sort_key)
