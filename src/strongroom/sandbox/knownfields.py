"""Unknown fields in built-in objects, for ``fieldValidation`` (Strict, Warn, Ignore).

A real server decodes built-in objects into Go types: a field the type lacks is an error with
``fieldValidation=Strict`` (kubectl's default), a warning with ``Warn`` (the server's default)
and silently dropped with ``Ignore``. The field names come from the same protobuf message table
as :mod:`protobuf` (the Go types' fields); a kind missing from the table is not checked.
"""

from __future__ import annotations

import functools
from typing import Any

from strongroom.sandbox import protobuf

_OPAQUE = frozenset(
    {
        "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
        "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
        "k8s.io.apimachinery.pkg.apis.meta.v1.Duration",
        "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
        "k8s.io.apimachinery.pkg.api.resource.Quantity",
        "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
        "k8s.io.apimachinery.pkg.runtime.RawExtension",
    }
)


#: Fields of Go types that are embedded (``json:",inline"``): in JSON their fields sit in the
#: parent, in protobuf they are a nested message. (message's short name, field name).
_INLINE = frozenset(
    {
        ("EphemeralContainer", "ephemeralContainerCommon"),
        ("IngressRule", "ingressRuleValue"),
        ("NamedRuleWithOperations", "ruleWithOperations"),
        ("RuleWithOperations", "rule"),
        ("PersistentVolumeSpec", "persistentVolumeSource"),
        ("Volume", "volumeSource"),
        ("Probe", "handler"),
    }
)


def _inline(message: str, field: protobuf.Field) -> bool:
    name = field[1]
    return field[2] == "message" and (
        name == "localObjectReference" or (message.rsplit(".", 1)[-1], name) in _INLINE
    )


@functools.cache
def _by_name(message: str) -> dict[str, protobuf.Field]:
    """The JSON fields of a message: its own plus those of its embedded messages."""
    names: dict[str, protobuf.Field] = {}
    for field in protobuf.fields_of(message).values():
        if _inline(message, field):
            names.update(_by_name(field[3]))
        else:
            names[field[1]] = field
    return names


def message_of(api_version: str, kind: str) -> str | None:
    """The protobuf message of a built-in kind, or None when it is not in the table."""
    name: str | None = protobuf.table()["kinds"].get(f"{api_version}/{kind}")
    return name


def drop_unknown(obj: dict[str, Any], message: str) -> list[str]:
    """Remove the fields the kind does not have from ``obj`` (in place); returns their paths
    (``spec.template.spec.containers[0].foo``)."""
    found: list[str] = []
    for key in list(obj):
        if key in ("apiVersion", "kind"):
            continue
        _walk_field(obj, key, message, "", found)
    return found


def _walk_field(
    parent: dict[str, Any], key: str, message: str, prefix: str, found: list[str]
) -> None:
    spec = _by_name(message).get(key)
    path = f"{prefix}{key}"
    value = parent[key]
    if spec is None:
        found.append(path)
        del parent[key]
        return
    _, _, kind, ref, repeated = spec
    if kind == "message":
        if repeated and isinstance(value, list):
            for i, item in enumerate(value):
                _walk(item, ref, f"{path}[{i}]", found)
        else:
            _walk(value, ref, path, found)
    elif kind == "map" and isinstance(value, dict) and ref[1] not in protobuf.SCALARS:
        for map_key, item in value.items():
            _walk(item, ref[1], f"{path}[{map_key}]", found)


def _walk(value: Any, message: str, path: str, found: list[str]) -> None:
    if message in _OPAQUE or not isinstance(value, dict):
        return
    for key in list(value):
        _walk_field(value, key, message, f"{path}.", found)


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "bool", type(None): "null"}
_SCALAR_CHECKS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "bytes": (str,),
    "bool": (bool,),
    "int32": (int,),
    "int64": (int,),
    "double": (int, float),
    "float": (int, float),
}
_SPECIAL_CHECKS: dict[str, tuple[type, ...]] = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": (str,),
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": (str,),
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": (str,),
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": (dict,),
    "k8s.io.apimachinery.pkg.api.resource.Quantity": (str, int, float),
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": (str, int),
}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), "number")


def _fits(value: Any, allowed: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in allowed:
        return False
    return isinstance(value, allowed)


def type_error(obj: dict[str, Any], message: str) -> str | None:
    """The first value whose JSON type the kind's Go type cannot take, as the decoder says it."""
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        found = _field_error(message, key, value, key)
        if found:
            return found
    return None


def _field_error(message: str, key: str, value: Any, path: str) -> str | None:
    spec = _by_name(message).get(key)
    if spec is None or value is None:
        return None
    _, _, kind, ref, repeated = spec
    owner = message.rsplit(".", 1)[-1]
    if repeated:
        if not isinstance(value, list):
            return _mismatch(value, owner, path, "array")
        for i, item in enumerate(value):
            found = _value_error(kind, ref, item, f"{path}[{i}]", owner)
            if found:
                return found
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return _mismatch(value, owner, path, "object")
        for map_key, item in value.items():
            found = _value_error(
                ref[1] if ref[1] in protobuf.SCALARS else "message",
                ref[1],
                item,
                f"{path}[{map_key}]",
                owner,
            )
            if found:
                return found
        return None
    return _value_error(kind, ref, value, path, owner)


def _value_error(kind: str, ref: Any, value: Any, path: str, owner: str) -> str | None:
    if value is None:
        return None
    if kind != "message":
        allowed = _SCALAR_CHECKS.get(kind, (object,))
        return None if _fits(value, allowed) else _mismatch(value, owner, path, kind)
    if ref in _SPECIAL_CHECKS:
        allowed = _SPECIAL_CHECKS[ref]
        return None if _fits(value, allowed) else _mismatch(value, owner, path, ref.rsplit(".")[-1])
    if ref in _OPAQUE:
        return None
    if not isinstance(value, dict):
        return _mismatch(value, owner, path, ref.rsplit(".", 1)[-1])
    for key, item in value.items():
        found = _field_error(ref, key, item, f"{path}.{key}")
        if found:
            return found
    return None


def _mismatch(value: Any, owner: str, path: str, wanted: str) -> str:
    return (
        f"json: cannot unmarshal {_json_type(value)} into Go struct field {owner}.{path} "
        f"of type {wanted}"
    )
