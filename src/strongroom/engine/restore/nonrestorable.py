"""Resources Strongroom never restores, whatever the filters say (Velero's nonRestorable).

Velero force-excludes ``nodes``, ``events``, ``events.events.k8s.io``,
``csinodes.storage.k8s.io``, ``volumeattachments.storage.k8s.io`` and its own ``velero.io``
kinds; Strongroom's own kinds are everything in the ``strongroom.io`` group.
"""

from __future__ import annotations

OWN_GROUP = "strongroom.io"

#: Group-resources never restored (besides every ``*.strongroom.io``).
GROUP_RESOURCES: frozenset[str] = frozenset(
    {
        "nodes",
        "events",
        "events.events.k8s.io",
        "csinodes.storage.k8s.io",
        "volumeattachments.storage.k8s.io",
    }
)

#: Other spellings a user may give on the command line (singular, kind, short name).
_ALIASES: dict[str, str] = {
    "node": "nodes",
    "no": "nodes",
    "event": "events",
    "ev": "events",
    "events.events": "events.events.k8s.io",
    "csinode": "csinodes.storage.k8s.io",
    "csinodes": "csinodes.storage.k8s.io",
    "csinode.storage.k8s.io": "csinodes.storage.k8s.io",
    "volumeattachment": "volumeattachments.storage.k8s.io",
    "volumeattachments": "volumeattachments.storage.k8s.io",
    "volumeattachment.storage.k8s.io": "volumeattachments.storage.k8s.io",
}


def is_own(group_resource: str) -> bool:
    """Whether ``group_resource`` belongs to Strongroom's own API group (or a subgroup)."""
    _, _, group = group_resource.partition(".")
    return group == OWN_GROUP or group.endswith("." + OWN_GROUP)


def is_non_restorable(group_resource: str) -> bool:
    """Whether items of ``group_resource`` (``plural[.group]``) are never restored."""
    return group_resource in GROUP_RESOURCES or is_own(group_resource)


def named_by(pattern: str) -> str | None:
    """The never-restored group-resource a user-given resource name designates, if any.

    Recognises plurals, singulars, kinds and short names without discovery; the planner
    checks again once names are resolved against the target cluster.
    """
    wanted = pattern.strip().lower()
    if wanted in GROUP_RESOURCES or is_own(wanted):
        return wanted
    return _ALIASES.get(wanted)
