"""Admission of an object about to be stored: field validation, then the validation rules.

:func:`check_fields` drops unknown fields (reporting them per ``fieldValidation``) and checks
custom objects against their CRD's schema; :func:`check_object` checks metadata (names,
labels, annotations, finalizers) and the kind-specific rules, answering 422 Invalid.
"""

from __future__ import annotations

from typing import Any

from strongroom.sandbox import cluster, crds, kinds, knownfields, schema, status, validation

Obj = dict[str, Any]
Call = cluster.Call

_VALIDATION_MODES = ("Ignore", "Warn", "Strict")


def check_fields(c: cluster.Cluster, call: Call, obj: Obj) -> None:
    """Drop (and report per ``fieldValidation``) unknown fields; validate custom objects."""
    mode = call.query.get("fieldValidation") or "Warn"
    rtype = call.rtype
    if mode not in _VALIDATION_MODES:
        raise status.bad_request(
            f"fieldValidation must be one of {', '.join(_VALIDATION_MODES)}, not {mode!r}"
        )
    unknown: list[str] = []
    spec: Obj | None = None
    if rtype.custom:
        crd = c.store.get(cluster.CRD_RESOURCE, "", f"{rtype.plural}.{rtype.group}")
        spec = crds.version_schema(crd, rtype.version) if crd is not None else None
        if spec is not None:
            unknown = schema.prune(obj, spec)
    elif rtype.group_resource == cluster.CRD_RESOURCE:
        mismatch = crds.decode_error(obj)
        if mismatch is not None:
            raise status.bad_request(
                f'{rtype.kind} in version "{rtype.version}" cannot be handled as a '
                f"{rtype.kind}: {mismatch}"
            )
    else:
        message = knownfields.message_of(rtype.group_version, rtype.kind)
        if message is not None:
            mismatch = knownfields.type_error(obj, message)
            if mismatch is not None:
                raise status.bad_request(
                    f'{rtype.kind} in version "{rtype.version}" cannot be handled as a '
                    f"{rtype.kind}: {mismatch}"
                )
            unknown = knownfields.drop_unknown(obj, message)
    if unknown and mode == "Strict":
        fields = ", ".join(f'unknown field "{p}"' for p in unknown)
        raise status.bad_request(
            f'{rtype.kind} in version "{rtype.version}" cannot be handled as a {rtype.kind}: '
            f"strict decoding error: {fields}"
        )
    if mode == "Warn":
        call.warnings.extend(f'unknown field "{p}"' for p in unknown)
    if spec is not None:
        causes = schema.validate(obj, spec)
        if causes:
            name = str(obj["metadata"].get("name") or "")
            raise status.invalid(rtype.group, rtype.kind, name, causes)


def check_object(call: Call, obj: Obj, old: Obj | None) -> None:
    """422 Invalid with every field error of metadata, kind rules and CRD definitions."""
    rtype = call.rtype
    causes = validation.metadata_causes(
        obj["metadata"], validation.name_rule(rtype.group, rtype.plural)
    )
    causes += kinds.validate(rtype, obj, old)
    if rtype.group_resource == cluster.CRD_RESOURCE:
        causes += crds.causes(obj)
    if old is not None and old["metadata"].get("deletionTimestamp"):
        added = set(obj["metadata"].get("finalizers") or []) - set(
            old["metadata"].get("finalizers") or []
        )
        if added:
            causes.append(
                status.field(
                    "metadata.finalizers",
                    "Forbidden: no new finalizers can be added if the object is being deleted",
                    "FieldValueForbidden",
                )
            )
    if causes:
        name = str(obj["metadata"].get("name") or "")
        raise status.invalid(rtype.group, rtype.kind, name, causes)
