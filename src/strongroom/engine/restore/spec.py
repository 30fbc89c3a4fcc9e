"""What to restore, from which backup, and how: a validated, immutable :class:`RestoreSpec`.

::

    spec = RestoreSpec(
        name="shop-1", backup_name="nightly",
        namespace_mappings=parse_namespace_mappings("shop:shop-copy"),
        existing_resource_policy="update",
    )

Validation happens on construction and raises :class:`~strongroom.engine.restore.errors.SpecError`
subclasses (exit 2). :meth:`RestoreSpec.to_dict` gives the spec in Velero's ``Restore.spec``
field names, as stored in the restore's manifest.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Mapping
from typing import Any, Literal

from strongroom.engine.backup import globs
from strongroom.engine.restore import errors, labelsel, modifiers, names, nonrestorable

Policy = Literal["none", "update"]
POLICIES: tuple[str, ...] = ("none", "update")


_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


def parse_namespace_mappings(text: str) -> dict[str, str]:
    """``"a:b,c:d"`` as ``{"a": "b", "c": "d"}``; ``""`` as ``{}``.

    Raises :class:`~strongroom.engine.restore.errors.MappingError` for a pair without exactly
    one ``:``, a name that is not a DNS label, a source given twice or two sources mapped to
    one target.
    """
    mappings: dict[str, str] = {}
    if not text.strip():
        return mappings
    for pair in text.split(","):
        source, sep, target = pair.strip().partition(":")
        if not sep or ":" in target:
            raise errors.MappingError(f"namespace mapping {pair.strip()!r}: expected source:target")
        if source in mappings:
            raise errors.MappingError(f"namespace mapping: source {source!r} is mapped twice")
        mappings[source] = target
    check_namespace_mappings(mappings)
    return mappings


def parse_storage_class_mappings(text: str) -> dict[str, str]:
    """``"old:new,a:b"`` as ``{"old": "new", "a": "b"}``; ``""`` as ``{}``. MappingError for a
    pair without exactly one ``:``, an empty or malformed name, or a source given twice."""
    mappings: dict[str, str] = {}
    if not text.strip():
        return mappings
    for pair in text.split(","):
        source, sep, target = pair.strip().partition(":")
        if (
            not sep
            or ":" in target
            or not _SUBDOMAIN.fullmatch(source)
            or not (_SUBDOMAIN.fullmatch(target))
        ):
            raise errors.MappingError(
                f"storage class mapping {pair.strip()!r}: expected old:new (class names)"
            )
        if source in mappings:
            raise errors.MappingError(f"storage class mapping: {source!r} is mapped twice")
        mappings[source] = target
    return mappings


def check_namespace_mappings(mappings: Mapping[str, str]) -> None:
    """Raise MappingError unless every name is a DNS label and no two sources share a target."""
    targets: dict[str, str] = {}
    for source, target in mappings.items():
        for role, value in (("source", source), ("target", target)):
            if not names.is_dns_label(value):
                raise errors.MappingError(
                    f"namespace mapping {source}:{target}: {role} {value!r} is not a valid "
                    "namespace name (a DNS-1123 label)"
                )
        if target in targets:
            raise errors.MappingError(
                f"namespace mapping: {targets[target]!r} and {source!r} both map to {target!r}"
            )
        targets[target] = source


@dataclasses.dataclass(frozen=True)
class RestoreSpec:
    """A restore request. Namespace and resource filters are Velero's: empty includes mean
    everything, excludes win over includes, namespace patterns are globs matched against the
    backup's namespaces, and ``include_cluster_resources=None`` restores cluster-scoped
    items only when every namespace is included."""

    name: str
    backup_name: str
    namespace_mappings: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Storage classes renamed on the way (claims, volumes, StatefulSet claim templates).
    storage_class_mappings: Mapping[str, str] = dataclasses.field(default_factory=dict)
    included_namespaces: tuple[str, ...] = ()
    excluded_namespaces: tuple[str, ...] = ()
    included_resources: tuple[str, ...] = ()
    excluded_resources: tuple[str, ...] = ()
    label_selector: str | None = None
    or_label_selectors: tuple[str, ...] = ()
    include_cluster_resources: bool | None = None
    existing_resource_policy: Policy = "none"
    preserve_node_ports: bool = False
    dry_run: bool = False
    #: Resources whose backed-up ``.status`` is restored too (Velero's ``restoreStatus``).
    status_included_resources: tuple[str, ...] = ()
    status_excluded_resources: tuple[str, ...] = ()
    #: Rules that patch objects as they are restored, and where they came from.
    resource_modifiers: modifiers.Modifiers | None = None
    resource_modifiers_source: str = ""
    #: The schedule whose newest backup ``backup_name`` is (Velero's ``scheduleName``), or "".
    schedule_name: str = ""

    def __post_init__(self) -> None:
        mapping = types.MappingProxyType(dict(self.namespace_mappings))
        object.__setattr__(self, "namespace_mappings", mapping)
        classes = types.MappingProxyType(dict(self.storage_class_mappings))
        object.__setattr__(self, "storage_class_mappings", classes)
        for field in (
            "included_namespaces",
            "excluded_namespaces",
            "included_resources",
            "excluded_resources",
            "or_label_selectors",
            "status_included_resources",
            "status_excluded_resources",
        ):
            object.__setattr__(self, field, tuple(getattr(self, field)))
        self._validate()

    def _validate(self) -> None:
        if not self.name:
            raise errors.SpecError("a restore needs a name")
        if not self.backup_name:
            raise errors.SpecError(f"restore {self.name!r}: no backup named")
        check_namespace_mappings(self.namespace_mappings)
        if self.existing_resource_policy not in POLICIES:
            raise errors.SpecError(
                f"existing resource policy {self.existing_resource_policy!r}: "
                "expected 'none' or 'update'"
            )
        if self.label_selector is not None and self.or_label_selectors:
            raise errors.SpecError("a label selector and OR label selectors exclude each other")
        for selector in (self.label_selector, *self.or_label_selectors):
            if selector is not None:
                labelsel.check(selector)
        for pattern in self.included_resources:
            found = nonrestorable.named_by(pattern)
            if found is not None:
                raise errors.NonRestorableError(
                    f"resource {pattern!r} ({found}) cannot be restored; remove it from the "
                    "included resources"
                )
        self._validate_namespaces()

    def _validate_namespaces(self) -> None:
        for pattern in (*self.included_namespaces, *self.excluded_namespaces):
            if pattern != "*":
                try:
                    globs.compile_pattern(pattern)
                except globs.PatternError as exc:
                    raise errors.SpecError(str(exc)) from exc
        both = sorted(set(self.included_namespaces) & set(self.excluded_namespaces))
        if both:
            raise errors.SpecError(f"namespace {both[0]!r} is both included and excluded")
        if "*" in self.excluded_namespaces:
            raise errors.SpecError("excluding every namespace ('*') leaves nothing to restore")

    @property
    def all_namespaces(self) -> bool:
        """Whether the namespace filter is "everything" (Velero's ``IncludeEverything``)."""
        return not self.excluded_namespaces and set(self.included_namespaces) <= {"*"}

    def restores_status(self, group_resource: str) -> bool:
        """Whether objects of ``group_resource`` get their backed-up ``.status`` back."""
        if group_resource in self.status_excluded_resources:
            return False
        return "*" in self.status_included_resources or (
            group_resource in self.status_included_resources
        )

    def target_namespace(self, namespace: str) -> str:
        """Where an item of backed-up ``namespace`` goes."""
        return self.namespace_mappings.get(namespace, namespace)

    def to_dict(self) -> dict[str, Any]:
        """The spec in Velero ``Restore.spec`` field names (empty fields left out)."""
        doc: dict[str, Any] = {
            "backupName": self.backup_name,
            "scheduleName": self.schedule_name or None,
            "includedNamespaces": list(self.included_namespaces) or ["*"],
            "excludedNamespaces": list(self.excluded_namespaces),
            "includedResources": list(self.included_resources) or ["*"],
            "excludedResources": list(self.excluded_resources),
            "namespaceMapping": dict(self.namespace_mappings),
            "storageClassMapping": dict(self.storage_class_mappings),
            "includeClusterResources": self.include_cluster_resources,
            "existingResourcePolicy": self.existing_resource_policy,
            "preserveNodePorts": self.preserve_node_ports,
        }
        if self.label_selector is not None:
            doc["labelSelector"] = labelsel.to_label_selector(self.label_selector)
        if self.or_label_selectors:
            doc["orLabelSelectors"] = [
                labelsel.to_label_selector(s) for s in self.or_label_selectors
            ]
        if self.status_included_resources or self.status_excluded_resources:
            doc["restoreStatus"] = {
                "includedResources": list(self.status_included_resources),
                "excludedResources": list(self.status_excluded_resources),
            }
        if self.resource_modifiers_source:
            doc["resourceModifier"] = {"source": self.resource_modifiers_source}
        return {k: v for k, v in doc.items() if v not in ([], {}, None)}
