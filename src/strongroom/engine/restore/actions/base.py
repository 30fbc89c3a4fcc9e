"""The restore item action interface (Velero's RestoreItemAction), versioned.

An action handles the items of the group-resources it names. It takes one
:class:`ActionInput` and returns one :class:`ActionOutput`; it never calls the cluster, so
every action is a pure function of its input and is table-tested as such. Actions receive a
copy already stripped of server-set metadata (:mod:`strongroom.engine.restore.sanitize`) and
may modify that copy; ``backup_item`` is the object exactly as backed up (status, managed
fields), read-only. The item is still in its backed-up namespace: the restorer applies the
namespace mapping to the item itself afterwards, actions remap references inside it.

Third-party actions register through the same registry
(:class:`strongroom.engine.restore.actions.registry.Registry`) as the built-in ones and
must declare :data:`API_VERSION`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

#: The version of this interface; the registry refuses actions declaring another.
API_VERSION = "strongroom.io/restore-item-action/v1"

Obj = dict[str, Any]


@dataclasses.dataclass(frozen=True, order=True)
class ItemKey:
    """One object of the backup: its group-resource, backed-up namespace (None when
    cluster-scoped) and name."""

    group_resource: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.group_resource} {where}"


@dataclasses.dataclass(frozen=True)
class PodVolumes:
    """The backup's pod volume data, which node agents restore (docs/node-agent.md)."""

    #: Backed-up (namespace, pod) -> the volumes of it the backup holds.
    by_pod: Mapping[tuple[str, str], tuple[str, ...]]
    #: Backed-up (namespace, claim) whose data the backup holds: re-provisioned, then filled.
    claims: frozenset[tuple[str, str]]
    #: The name of the marker the agents write once a volume is restored.
    marker: str
    #: The image of the restore helper init container.
    image: str


@dataclasses.dataclass(frozen=True)
class ActionContext:
    """What every action may know about the run."""

    backup_name: str
    restore_name: str
    namespace_mappings: Mapping[str, str]
    preserve_node_ports: bool = False
    #: Whether an item of the backup is part of this restore (selected or pulled in).
    planned: Callable[[ItemKey], bool] = lambda key: False
    pod_volumes: PodVolumes | None = None
    storage_class_mappings: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def map_storage_class(self, name: object) -> object:
        return self.storage_class_mappings.get(name, name) if isinstance(name, str) else name

    def map_namespace(self, namespace: str) -> str:
        return self.namespace_mappings.get(namespace, namespace)


@dataclasses.dataclass(frozen=True)
class ActionInput:
    """One item for an action: ``item`` to change, ``backup_item`` as it was backed up."""

    key: ItemKey
    item: Obj
    backup_item: Mapping[str, Any]
    context: ActionContext


@dataclasses.dataclass(frozen=True)
class ActionOutput:
    """What an action decided.

    ``skip`` means the item is not restored (``reason`` says why, for the log);
    ``additional_items`` are other items of the backup this one needs, restored with it
    when the backup holds them; ``warnings`` go to the results of the item's namespace.
    """

    item: Obj
    skip: bool = False
    reason: str = ""
    additional_items: tuple[ItemKey, ...] = ()
    warnings: tuple[str, ...] = ()


class RestoreItemAction(Protocol):
    """A restore item action (see the module docstring)."""

    #: Must equal :data:`API_VERSION`.
    API_VERSION: ClassVar[str]
    #: A unique name, ``strongroom.io/<kind>`` for the built-in ones.
    NAME: ClassVar[str]
    #: The group-resources (``pods``, ``jobs.batch``) whose items this action handles.
    GROUP_RESOURCES: ClassVar[tuple[str, ...]]

    def execute(self, action_input: ActionInput) -> ActionOutput:
        """Decide about one item; must not modify ``action_input.backup_item``."""
        ...


def metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj["metadata"]`` or an empty dict."""
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def spec(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj["spec"]`` or an empty dict."""
    found = obj.get("spec")
    return found if isinstance(found, dict) else {}
