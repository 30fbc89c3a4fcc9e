"""Custom resources against their CRD's structural schema: pruning and validation.

As on a real server, fields a schema does not declare are pruned (unless
``x-kubernetes-preserve-unknown-fields``), and what remains is validated: types, required
properties, enums, bounds, lengths, patterns, list sizes. ``apiVersion``, ``kind`` and
``metadata`` are left to the generic checks. The pruned paths are returned so that the request's
``fieldValidation`` can turn them into an error (Strict) or warnings (Warn).
"""

from __future__ import annotations

import json
import re
from typing import Any

from strongroom.sandbox import status

Obj = dict[str, Any]
_ROOT_KEEP = ("apiVersion", "kind", "metadata")
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def prune(obj: Obj, schema: Obj) -> list[str]:
    """Remove undeclared fields from ``obj`` in place; returns their paths (``spec.foo``)."""
    dropped: list[str] = []
    for key in list(obj):
        if key in _ROOT_KEEP:
            continue
        _prune_field(obj, key, schema, "", dropped)
    return dropped


def _prune_field(parent: Obj, key: str, schema: Obj, prefix: str, dropped: list[str]) -> None:
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    if props is not None and key in props:
        _prune_value(parent[key], props[key], f"{prefix}{key}", dropped)
    elif isinstance(extra, dict):
        _prune_value(parent[key], extra, f"{prefix}{key}", dropped)
    elif extra is True or schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    else:
        dropped.append(f"{prefix}{key}")
        del parent[key]


def _prune_value(value: Any, schema: Obj, path: str, dropped: list[str]) -> None:
    if schema.get("x-kubernetes-embedded-resource") and isinstance(value, dict):
        for key in list(value):
            if key not in _ROOT_KEEP:
                _prune_field(value, key, schema, f"{path}.", dropped)
    elif isinstance(value, dict) and ("properties" in schema or "additionalProperties" in schema):
        for key in list(value):
            _prune_field(value, key, schema, f"{path}.", dropped)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _prune_value(item, schema["items"], f"{path}[{i}]", dropped)


def validate(obj: Obj, schema: Obj) -> list[status.Cause]:
    """Field errors of ``obj`` (already pruned) against ``schema``."""
    causes: list[status.Cause] = []
    for key in schema.get("required") or []:
        if key not in obj and key not in _ROOT_KEEP:
            causes.append(status.field(key, "Required value", "FieldValueRequired"))
    for key, value in obj.items():
        if key in _ROOT_KEEP:
            continue
        sub = _child_schema(schema, key)
        if sub is not None:
            _check(value, sub, key, causes)
    return causes


def _child_schema(schema: Obj, key: str) -> Obj | None:
    props = schema.get("properties") or {}
    if key in props:
        child: Obj = props[key]
        return child
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _bad(path: str, value: Any, message: str, causes: list[status.Cause]) -> None:
    shown = json.dumps(value) if not isinstance(value, dict | list) else f'"{type(value).__name__}"'
    causes.append(status.field(path, f"Invalid value: {shown}: {message}"))


def _check(value: Any, schema: Obj, path: str, causes: list[status.Cause]) -> None:
    if value is None:
        if not schema.get("nullable"):
            _bad(
                path,
                value,
                f'{path} in body must be of type {schema.get("type", "object")}: "null"',
                causes,
            )
        return
    if not _type_ok(value, schema, path, causes):
        return
    _check_bounds(value, schema, path, causes)
    if isinstance(value, dict):
        for key in schema.get("required") or []:
            if key not in value:
                causes.append(status.field(f"{path}.{key}", "Required value", "FieldValueRequired"))
        for key, item in value.items():
            sub = _child_schema(schema, key)
            if sub is not None:
                _check(item, sub, f"{path}.{key}", causes)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _check(item, schema["items"], f"{path}[{i}]", causes)


def _type_ok(value: Any, schema: Obj, path: str, causes: list[status.Cause]) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        ok = isinstance(value, str | int) and not isinstance(value, bool)
        wanted = "integer or string"
    else:
        wanted = schema.get("type", "")
        allowed = _TYPES.get(wanted)
        ok = allowed is None or (
            isinstance(value, allowed) and not (isinstance(value, bool) and wanted != "boolean")
        )
    if not ok:
        actual = {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
            type(value), "number" if isinstance(value, float) else "integer"
        )
        _bad(path, value, f'{path} in body must be of type {wanted}: "{actual}"', causes)
    return ok


def _check_bounds(value: Any, schema: Obj, path: str, causes: list[status.Cause]) -> None:
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        choices = ", ".join(json.dumps(e) for e in enum)
        causes.append(
            status.field(
                path,
                f"Unsupported value: {json.dumps(value)}: supported values: {choices}",
                "FieldValueNotSupported",
            )
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            _bad(
                path,
                value,
                f"{path} in body should be greater than or equal to {schema['minimum']}",
                causes,
            )
        if "maximum" in schema and value > schema["maximum"]:
            _bad(
                path,
                value,
                f"{path} in body should be less than or equal to {schema['maximum']}",
                causes,
            )
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            causes.append(
                status.field(
                    path,
                    f"Too long: may not be more than {schema['maxLength']} bytes",
                    "FieldValueTooLong",
                )
            )
        if "minLength" in schema and len(value) < schema["minLength"]:
            _bad(
                path,
                value,
                f"{path} in body should be at least {schema['minLength']} chars long",
                causes,
            )
        if "pattern" in schema and not re.search(schema["pattern"], value):
            _bad(path, value, f"{path} in body should match '{schema['pattern']}'", causes)
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            causes.append(
                status.field(
                    path,
                    f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
                    "FieldValueTooMany",
                )
            )
        if "minItems" in schema and len(value) < schema["minItems"]:
            _bad(
                path,
                value,
                f"{path} in body should have at least {schema['minItems']} items",
                causes,
            )
