"""What a backup is asked to collect: Velero's Backup spec, validated when it is built.

Invalid input raises a :class:`SpecError` (a usage error, exit 2) naming the field, as Velero
puts a backup into ``FailedValidation``: a malformed name, namespace pattern, selector or ttl,
``labelSelector`` together with ``orLabelSelectors``, an include/exclude list with ``*`` among
other names, ``*`` in an exclude list (the scoped lists allow it alone, with nothing included),
an entry both included and excluded, the old resource filters (``includedResources``,
``excludedResources``, ``includeClusterResources``) together with the scoped ones
(``included|excludedClusterScopedResources``, ``included|excludedNamespaceScopedResources``),
or labels and annotations the API server would refuse on an object (:mod:`.objectmeta`).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any

from strongroom import errors
from strongroom.engine.backup import durations, globs, includes, metav1, objectmeta, selectors

DEFAULT_TTL = datetime.timedelta(hours=720)
_LIST_FIELDS = {
    "includedNamespaces": "included_namespaces",
    "excludedNamespaces": "excluded_namespaces",
    "includedResources": "included_resources",
    "excludedResources": "excluded_resources",
}
#: Velero 1.11's scoped resource filters; in the manifest only when given.
_SCOPED_FIELDS = {
    "includedClusterScopedResources": "included_cluster_scoped_resources",
    "excludedClusterScopedResources": "excluded_cluster_scoped_resources",
    "includedNamespaceScopedResources": "included_namespace_scoped_resources",
    "excludedNamespaceScopedResources": "excluded_namespace_scoped_resources",
}
DEFAULT_LOCATION = "default"
_NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class SpecError(errors.UsageError):
    """A backup spec Velero would put in ``FailedValidation``."""


def _pair(fields: dict[str, Any], name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return fields[f"included{name}"], fields[f"excluded{name}"]


@dataclasses.dataclass(frozen=True)
class BackupSpec:
    """A validated backup request; lists are tuples, ``include_cluster_resources`` None = auto,
    ``labels`` and ``annotations`` (the Backup's own metadata) read-only mappings."""

    name: str
    included_namespaces: tuple[str, ...] = ()
    excluded_namespaces: tuple[str, ...] = ()
    included_resources: tuple[str, ...] = ()
    excluded_resources: tuple[str, ...] = ()
    label_selector: str | None = None
    or_label_selectors: tuple[str, ...] = ()
    include_cluster_resources: bool | None = None
    ttl: datetime.timedelta = DEFAULT_TTL
    storage_location: str = DEFAULT_LOCATION
    included_cluster_scoped_resources: tuple[str, ...] = ()
    excluded_cluster_scoped_resources: tuple[str, ...] = ()
    included_namespace_scoped_resources: tuple[str, ...] = ()
    excluded_namespace_scoped_resources: tuple[str, ...] = ()
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Velero's ``defaultVolumesToFsBackup``: every pod volume unless annotated out.
    default_volumes_to_fs_backup: bool = False

    def __post_init__(self) -> None:
        self._normalise()
        self._validate()

    def _normalise(self) -> None:
        """Lists as tuples of strings, metadata as read-only mappings; SpecError otherwise."""
        for field in (*_LIST_FIELDS.values(), *_SCOPED_FIELDS.values(), "or_label_selectors"):
            value = getattr(self, field)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise SpecError(f"{field}: a list of strings")
            object.__setattr__(self, field, tuple(value))
        for field in ("labels", "annotations"):
            mapping = objectmeta.frozen(getattr(self, field))
            if mapping is None:
                raise SpecError(f"{field}: a mapping of strings to strings")
            object.__setattr__(self, field, mapping)

    def _validate(self) -> None:
        if len(self.name) > 253 or not _NAME_RE.fullmatch(self.name):
            raise SpecError(
                f"backup name {self.name!r}: at most 253 lowercase letters, digits, '-' or '.', "
                "starting and ending with a letter or digit"
            )
        problem = includes.list_problem(
            "Namespaces", self.included_namespaces, self.excluded_namespaces
        )
        if problem is not None:
            raise SpecError(problem)
        for pattern in (*self.included_namespaces, *self.excluded_namespaces):
            if pattern != "*":
                globs.compile_pattern(pattern)
        self._check_resource_lists()
        problem = objectmeta.label_problem(self.labels) or objectmeta.annotation_problem(
            self.annotations
        )
        if problem is not None:
            raise SpecError(problem)
        if self.label_selector is not None and self.or_label_selectors:
            raise SpecError("labelSelector and orLabelSelectors cannot be used together")
        for text in self.selector_texts():
            metav1.to_document(text)
        if self.ttl < datetime.timedelta(0):
            raise SpecError(f"ttl {durations.to_string(self.ttl)}: must not be negative")
        if not self.storage_location.strip():
            raise SpecError("storage location: an empty name")

    def _check_resource_lists(self) -> None:
        fields = {k: getattr(self, f) for k, f in {**_LIST_FIELDS, **_SCOPED_FIELDS}.items()}
        problem = (
            includes.list_problem("Resources", *_pair(fields, "Resources"))
            or includes.list_problem(
                "ClusterScopedResources", *_pair(fields, "ClusterScopedResources"), scoped=True
            )
            or includes.list_problem(
                "NamespaceScopedResources", *_pair(fields, "NamespaceScopedResources"), scoped=True
            )
            or includes.mixing_problem(
                {
                    "includedResources": self.included_resources,
                    "excludedResources": self.excluded_resources,
                    "includeClusterResources": self.include_cluster_resources,
                },
                {key: fields[key] for key in _SCOPED_FIELDS},
            )
        )
        if problem is not None:
            raise SpecError(problem)

    @property
    def scoped_filters(self) -> bool:
        """Whether the scoped resource filters (Velero 1.11+) decide what is collected."""
        return any(getattr(self, field) for field in _SCOPED_FIELDS.values())

    @classmethod
    def with_ttl_text(cls, name: str, ttl: str, **fields: Any) -> BackupSpec:
        """A spec whose ttl is given as a Go duration (``720h``, ``1h30m``). A ttl of 0 is
        the default (720h), as Velero's server makes it: read as "keep forever" or "expire at
        once", 0 would otherwise hand the backup to the next ``backup delete --expired``."""
        parsed = durations.parse(ttl, "ttl")
        return cls(name, ttl=parsed or DEFAULT_TTL, **fields)

    def selector_texts(self) -> tuple[str, ...]:
        """The selectors as given: the label selector, or each OR selector."""
        if self.label_selector is not None:
            return (self.label_selector,)
        return self.or_label_selectors

    def server_selectors(self) -> tuple[str | None, ...]:
        """One canonical selector string per list to run (None: no selector at all)."""
        texts = self.selector_texts()
        if not texts:
            return (None,)
        return tuple(str(selectors.parse(t)) or None for t in texts)

    @classmethod
    def from_dict(cls, name: str, doc: dict[str, Any]) -> BackupSpec:
        """The spec a manifest's ``spec`` (see :meth:`to_dict`) describes; SpecError if it
        is malformed. Selectors come back in canonical form."""
        fields: dict[str, Any] = {}
        for key, field in {**_LIST_FIELDS, **_SCOPED_FIELDS}.items():
            value = doc.get(key) or []
            if not isinstance(value, list):
                raise SpecError(f"spec {key}: not a list")
            fields[field] = tuple(value)
        meta = doc.get("metadata") or {}
        if not isinstance(meta, dict):
            raise SpecError("spec metadata: not an object")
        fields["labels"] = meta.get("labels") or {}
        fields["annotations"] = meta.get("annotations") or {}
        included = doc.get("includeClusterResources")
        if included is not None and not isinstance(included, bool):
            raise SpecError("spec includeClusterResources: not true, false or null")
        if doc.get("labelSelector") is not None:
            fields["label_selector"] = metav1.from_document(doc["labelSelector"])
        ors = doc.get("orLabelSelectors")
        ors = [] if ors is None else ors
        if not isinstance(ors, list):
            raise SpecError("spec orLabelSelectors: not a list")
        fields["or_label_selectors"] = tuple(metav1.from_document(d) for d in ors)
        ttl = doc.get("ttl", durations.to_string(DEFAULT_TTL))
        location = doc.get("storageLocation", DEFAULT_LOCATION)
        if not isinstance(ttl, str) or not isinstance(location, str):
            raise SpecError("spec ttl and storageLocation: strings")
        opt_out = doc.get("defaultVolumesToFsBackup", False)
        if not isinstance(opt_out, bool):
            raise SpecError("spec defaultVolumesToFsBackup: not true or false")
        return cls(
            name,
            include_cluster_resources=included,
            ttl=durations.parse(ttl, "spec ttl"),
            storage_location=location,
            default_volumes_to_fs_backup=opt_out,
            **fields,
        )

    def to_dict(self) -> dict[str, Any]:
        """The manifest's ``spec``: Velero's Backup spec field names and shapes. The scoped
        filters appear when given; the Backup's own labels and annotations, when it has some,
        as ``metadata.labels`` (Velero's field) and ``metadata.annotations`` (Strongroom's)."""
        spec: dict[str, Any] = {
            "includedNamespaces": list(self.included_namespaces),
            "excludedNamespaces": list(self.excluded_namespaces),
            "includedResources": list(self.included_resources),
            "excludedResources": list(self.excluded_resources),
            "includeClusterResources": self.include_cluster_resources,
            "ttl": durations.to_string(self.ttl),
            "storageLocation": self.storage_location,
        }
        if self.label_selector is not None:
            spec["labelSelector"] = metav1.to_document(self.label_selector)
        if self.or_label_selectors:
            spec["orLabelSelectors"] = [metav1.to_document(t) for t in self.or_label_selectors]
        for key, field in _SCOPED_FIELDS.items():
            if getattr(self, field):
                spec[key] = list(getattr(self, field))
        if self.default_volumes_to_fs_backup:
            spec["defaultVolumesToFsBackup"] = True
        meta = {"labels": dict(self.labels), "annotations": dict(self.annotations)}
        if self.labels or self.annotations:
            spec["metadata"] = {key: value for key, value in meta.items() if value}
        return spec
