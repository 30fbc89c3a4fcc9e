"""How the built-in Kubernetes kinds merge their lists, for strategic merge patch and apply.

The facts come from the ``patchStrategy``/``patchMergeKey`` struct tags and the
``+listType``/``+listMapKey`` markers of the Kubernetes API types (k8s.io/api). Lists not named
here are atomic: a patch or an apply replaces them whole (for example a Pod's ``tolerations``,
a container's ``args``, an Endpoints' ``subsets``, RBAC ``rules`` and ``subjects``).

Custom resources have no such tags visible to the sandbox: apart from ``metadata`` their lists
are atomic, and a strategic merge patch on them is refused (see :func:`supports_strategic`).
"""

from __future__ import annotations

import dataclasses
import enum

#: API groups served by the API server itself; everything else is a custom resource.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)

_CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})


class ListType(enum.Enum):
    """How a list merges: by key (map), as a set of scalars, or replaced whole (atomic)."""

    MAP = "map"
    SET = "set"
    ATOMIC = "atomic"


@dataclasses.dataclass(frozen=True)
class ListStrategy:
    """The merge rule of one list field.

    ``merge_key`` is the strategic-merge-patch key (``patchMergeKey``); ``apply_keys`` are the
    server-side-apply keys (``+listMapKey``), with ``defaults`` filling keys an item omits (a
    port's protocol defaults to TCP).
    """

    type: ListType
    merge_key: str = ""
    apply_keys: tuple[str, ...] = ()
    defaults: tuple[tuple[str, str], ...] = ()


ATOMIC = ListStrategy(ListType.ATOMIC)
SET = ListStrategy(ListType.SET)


def _keyed(key: str, *more: str, defaults: tuple[tuple[str, str], ...] = ()) -> ListStrategy:
    return ListStrategy(ListType.MAP, key, (key, *more), defaults)


_TCP = (("protocol", "TCP"),)

#: Lists identified by their own field name alone, in any built-in kind.
_BY_NAME: dict[str, ListStrategy] = {
    "containers": _keyed("name"),
    "initContainers": _keyed("name"),
    "ephemeralContainers": _keyed("name"),
    "imagePullSecrets": _keyed("name"),
    "hostAliases": _keyed("ip"),
    "topologySpreadConstraints": _keyed("topologyKey", "whenUnsatisfiable"),
    "schedulingGates": _keyed("name"),
    "resourceClaims": _keyed("name"),
    "conditions": _keyed("type"),
    "podIPs": _keyed("ip"),
    "hostIPs": _keyed("ip"),
    "podCIDRs": SET,
}

#: Lists of a container, identified by field name under a container list.
_IN_CONTAINER: dict[str, ListStrategy] = {
    "ports": _keyed("containerPort", "protocol", defaults=_TCP),
    "env": _keyed("name"),
    "volumeMounts": _keyed("mountPath"),
    "volumeDevices": _keyed("devicePath"),
}

#: Lists identified by (kind, full field path).
_BY_KIND_PATH: dict[tuple[str, tuple[str, ...]], ListStrategy] = {
    ("Service", ("spec", "ports")): _keyed("port", "protocol", defaults=_TCP),
    ("ServiceAccount", ("secrets",)): _keyed("name"),
    ("Node", ("status", "addresses")): _keyed("type"),
}

_METADATA: dict[str, ListStrategy] = {
    "finalizers": SET,
    "ownerReferences": _keyed("uid"),
}


def supports_strategic(group: str, kind: str) -> bool:
    """Whether the API server accepts a strategic merge patch for ``kind`` (built-ins only)."""
    del kind  # every kind of a built-in group does; custom resources answer 415
    return group in BUILTIN_GROUPS


def list_strategy(group: str, kind: str, path: tuple[str, ...]) -> ListStrategy:
    """The merge rule of the list at ``path`` (field names from the object's root)."""
    if len(path) == 2 and path[0] == "metadata":
        return _METADATA.get(path[1], ATOMIC)
    if group not in BUILTIN_GROUPS or not path:
        return ATOMIC
    found = _BY_KIND_PATH.get((kind, path))
    if found is not None:
        return found
    name = path[-1]
    if len(path) >= 2 and path[-2] in _CONTAINER_LISTS:
        return _IN_CONTAINER.get(name, ATOMIC)
    if name == "volumes" and len(path) >= 2 and path[-2] == "spec":
        return _keyed("name")
    return _BY_NAME.get(name, ATOMIC)
