"""CustomResourceDefinitions: validation, the status a real server gives them, registration.

A created CRD is accepted and established at once (there is no controller delay): its status
gets the ``NamesAccepted`` and ``Established`` conditions, and every served version becomes a
resource in discovery. CRDs carry the ``customresourcecleanup.apiextensions.k8s.io`` finalizer;
deleting one removes its objects first (see :mod:`lifecycle`), then the definition.
"""

from __future__ import annotations

import json
import re
from typing import Any

from strongroom.sandbox import catalog, objects, status, validation

Obj = dict[str, Any]

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key of Kubernetes version priority: GA > beta > alpha, higher numbers first."""
    match = _VERSION_RE.match(version)
    if match is None:
        return (3, 0, 0, version)
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), version)


_SHAPES: tuple[tuple[str, type], ...] = (
    ("group", str),
    ("scope", str),
    ("names", dict),
    ("versions", list),
    ("conversion", dict),
    ("preserveUnknownFields", bool),
)
_VERSION_SHAPES: tuple[tuple[str, type], ...] = (
    ("name", str),
    ("served", bool),
    ("storage", bool),
    ("schema", dict),
    ("subresources", dict),
    ("additionalPrinterColumns", list),
    ("deprecated", bool),
)


def decode_error(crd: Obj) -> str | None:
    """Where a CRD's JSON does not fit the CustomResourceDefinition type, as a decoder says."""
    spec = crd.get("spec")
    if spec is None:
        return None
    if not isinstance(spec, dict):
        return "json: cannot unmarshal into Go struct field CustomResourceDefinition.spec"
    for key, kind in _SHAPES:
        if spec.get(key) is not None and not _is(spec[key], kind):
            return (
                f"json: cannot unmarshal into Go struct field .spec.{key} of type {kind.__name__}"
            )
    for key, value in (spec.get("names") or {}).items():
        wanted: type = list if key in ("shortNames", "categories") else str
        if not _is(value, wanted) or (
            wanted is list and not all(isinstance(v, str) for v in value)
        ):
            return f"json: cannot unmarshal into Go struct field .spec.names.{key}"
    for i, version in enumerate(spec.get("versions") or []):
        if not isinstance(version, dict):
            return f"json: cannot unmarshal into Go struct field .spec.versions[{i}]"
        for key, kind in _VERSION_SHAPES:
            if version.get(key) is not None and not _is(version[key], kind):
                return f"json: cannot unmarshal into Go struct field .spec.versions[{i}].{key}"
        schema = objects.dig(version, "schema", "openAPIV3Schema")
        if schema is not None and not isinstance(schema, dict):
            return f"json: cannot unmarshal into Go struct field .spec.versions[{i}].schema"
    return None


def _is(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def causes(crd: Obj) -> list[status.Cause]:
    """Field errors of a CRD's spec and name."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    found: list[status.Cause] = []

    def required(path: str) -> None:
        found.append(status.field(path, "Required value", "FieldValueRequired"))

    if not group:
        required("spec.group")
    elif "." not in group:
        found.append(
            status.field(
                "spec.group",
                f"Invalid value: {json.dumps(group)}: should be a domain with at least one dot",
            )
        )
    for key in ("plural", "kind"):
        if not names.get(key):
            required(f"spec.names.{key}")
    if names.get("plural"):
        found.extend(
            status.field("spec.names.plural", f"Invalid value: {json.dumps(names['plural'])}: {m}")
            for m in validation.dns_label(names["plural"])
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        found.append(
            status.field(
                "spec.scope",
                f"Unsupported value: {json.dumps(spec.get('scope'))}"
                ': supported values: "Cluster", "Namespaced"',
                "FieldValueNotSupported",
            )
        )
    found.extend(_version_causes(spec.get("versions")))
    expected = f"{names.get('plural')}.{group}"
    name = objects.dig(crd, "metadata", "name")
    if name and names.get("plural") and group and name != expected:
        found.append(
            status.field(
                "metadata.name",
                f'Invalid value: {json.dumps(name)}: must be spec.names.plural+"."+spec.group',
            )
        )
    return found


def _version_causes(versions: Any) -> list[status.Cause]:
    if not isinstance(versions, list) or not versions:
        return [
            status.field(
                "spec.versions",
                "Invalid value: null: must have exactly one version marked as storage version",
            )
        ]
    found = []
    storage = [v for v in versions if isinstance(v, dict) and v.get("storage")]
    if len(storage) != 1:
        found.append(
            status.field(
                "spec.versions",
                f"Invalid value: {json.dumps(versions)[:200]}: "
                "must have exactly one version marked as storage version",
            )
        )
    for i, version in enumerate(versions):
        if not isinstance(version, dict) or not version.get("name"):
            found.append(
                status.field(f"spec.versions[{i}].name", "Required value", "FieldValueRequired")
            )
        elif not objects.dig(version, "schema", "openAPIV3Schema"):
            found.append(
                status.field(
                    f"spec.versions[{i}].schema.openAPIV3Schema",
                    "Required value: schemas are required",
                    "FieldValueRequired",
                )
            )
    return found


def prepare(crd: Obj, old: Obj | None) -> None:
    """Set the status a real server reports for an accepted, established CRD."""
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    names.setdefault("singular", str(names.get("kind", "")).lower())
    names.setdefault("listKind", f"{names.get('kind')}List")
    spec["names"] = names
    stamp = objects.now()
    stored = list(objects.dig(old, "status", "storedVersions") or []) if old else []
    for version in spec.get("versions") or []:
        if version.get("storage") and version.get("name") not in stored:
            stored.append(version["name"])
    crd["status"] = {
        "acceptedNames": names,
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": stamp,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": stamp,
            },
        ],
        "storedVersions": stored,
    }
    if old is None:
        finalizers = objects.meta(crd).setdefault("finalizers", [])
        if CLEANUP_FINALIZER not in finalizers:
            finalizers.append(CLEANUP_FINALIZER)


def resource_types(crd: Obj) -> list[catalog.ResourceType]:
    """The resource types a CRD serves, one per served version, preferred first."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    types = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subs = version.get("subresources") or spec.get("subresources") or {}
        types.append(
            catalog.ResourceType(
                group=spec["group"],
                version=version["name"],
                plural=names["plural"],
                singular=names.get("singular") or str(names["kind"]).lower(),
                kind=names["kind"],
                namespaced=spec.get("scope") == "Namespaced",
                verbs=catalog.ALL_VERBS,
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=frozenset(k for k in subs if k in ("status", "scale")),
                custom=True,
            )
        )
    return sorted(types, key=lambda t: version_priority(t.version))


def register(cat: catalog.Catalog, crd: Obj) -> None:
    types = resource_types(crd)
    if types:
        cat.register(types)


def unregister(cat: catalog.Catalog, crd: Obj) -> None:
    spec = crd.get("spec") or {}
    plural = objects.dig(spec, "names", "plural")
    if spec.get("group") and plural:
        cat.unregister(spec["group"], plural)


def version_schema(crd: Obj, version: str) -> Obj | None:
    """The openAPIV3Schema of one version of a CRD."""
    for entry in objects.dig(crd, "spec", "versions") or []:
        if entry.get("name") == version:
            schema = objects.dig(entry, "schema", "openAPIV3Schema")
            return schema if isinstance(schema, dict) else None
    return None
