"""Request bodies in the Kubernetes protobuf encoding, decoded into JSON objects.

kubectl's typed commands (``kubectl create namespace``, ``create configmap``, ``create
deployment``...) send built-in objects as ``application/vnd.kubernetes.protobuf``: the magic
``k8s\\0`` and a ``runtime.Unknown`` envelope holding apiVersion, kind and the object's bytes.
The field numbers come from ``data/protobuf-messages.json``, generated from the
``generated.proto`` files of kubernetes/api and kubernetes/apimachinery (see data/README.md).
Responses are always JSON, which every client accepts.

Protobuf cannot tell an unset field from a zero one, so empty strings and zero numbers are
dropped, as the API server's JSON encoding (``omitempty``) does, except for the numbers where
zero is meaningful (:data:`_ZERO_INTS`).
"""

from __future__ import annotations

import base64
import datetime
import functools
import importlib.resources
import json
import struct
from collections.abc import Iterator
from typing import Any

from strongroom.sandbox import status

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
_ZERO_INTS = frozenset(
    {
        "replicas",
        "revisionHistoryLimit",
        "backoffLimit",
        "parallelism",
        "completions",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
        "terminationGracePeriodSeconds",
        "activeDeadlineSeconds",
        "startingDeadlineSeconds",
        "ttlSecondsAfterFinished",
        "defaultMode",
        "mode",
        "runAsUser",
        "runAsGroup",
        "fsGroup",
        "value",
        "minReplicas",
        "maxUnavailable",
    }
)

#: Optional booleans (pointers in the Go types) whose false is a choice, not an absence.
_FALSE_KEPT = frozenset(
    {
        "automountServiceAccountToken",
        "immutable",
        "suspend",
        "privileged",
        "allowPrivilegeEscalation",
        "readOnlyRootFilesystem",
        "runAsNonRoot",
        "hostUsers",
        "enableServiceLinks",
        "setHostnameAsFQDN",
        "shareProcessNamespace",
        "optional",
        "allocateLoadBalancerNodePorts",
        "manualSelector",
        "paused",
    }
)

Field = tuple[int, str, str, Any, bool]


class ProtobufError(ValueError):
    """A body that is not a well-formed Kubernetes protobuf object."""


@functools.cache
def table() -> dict[str, Any]:
    data = importlib.resources.files("strongroom.sandbox").joinpath("data/protobuf-messages.json")
    table: dict[str, Any] = json.loads(data.read_text(encoding="utf-8"))
    return table


@functools.cache
def fields_of(message: str) -> dict[int, Field]:
    entries = table()["messages"].get(message, [])
    return {int(e[0]): (int(e[0]), e[1], e[2], e[3], bool(e[4])) for e in entries}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def _entries(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, raw value) of every field in ``data``."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        if pos > len(data):
            raise ProtobufError("truncated field")
        yield number, wire, value


def _payload(value: Any) -> bytes:
    """The bytes of a length-delimited field; anything else is a malformed message."""
    if not isinstance(value, bytes):
        raise ProtobufError("expected a length-delimited field")
    return value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _scalar(kind: str, wire: int, value: Any) -> Any:
    if kind == "string":
        return _payload(value).decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(_payload(value)).decode()
    if kind == "bool":
        return bool(value)
    if kind in ("double", "float"):
        return struct.unpack("<d" if wire == 1 else "<f", value)[0]
    return _signed(int(value))


def _time(data: bytes, micro: bool) -> str | None:
    parts = {n: v for n, _, v in _entries(data)}
    seconds, nanos = _signed(parts.get(1, 0)), parts.get(2, 0)
    if not seconds and not nanos:
        return None
    stamp = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    if micro:
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{nanos // 1000:06d}Z"
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _special(name: str, data: bytes) -> tuple[bool, Any]:
    """Messages whose JSON form is not an object: times, quantities, int-or-string, raw JSON."""
    if name == _META + "Time":
        return True, _time(data, micro=False)
    if name == _META + "MicroTime":
        return True, _time(data, micro=True)
    if name == "k8s.io.apimachinery.pkg.api.resource.Quantity":
        return True, next((_payload(v).decode() for n, _, v in _entries(data) if n == 1), "0")
    if name == "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
        parts = {n: v for n, _, v in _entries(data)}
        if parts.get(1, 0) == 1:
            return True, _payload(parts.get(3, b"")).decode()
        return True, _signed(parts.get(2, 0))
    if name in ("k8s.io.apimachinery.pkg.runtime.RawExtension", _META + "FieldsV1"):
        raw = next((_payload(v) for n, _, v in _entries(data) if n == 1), b"")
        return True, json.loads(raw) if raw else None
    return False, None


def _value(kind: str, ref: Any, wire: int, value: Any) -> Any:
    if kind == "message":
        return message(_payload(value), ref)
    return _scalar(kind, wire, value)


def message(data: bytes, name: str) -> Any:
    """Decode the bytes of message ``name`` into its JSON form."""
    special, value = _special(name, data)
    if special:
        return value
    fields = fields_of(name)
    out: dict[str, Any] = {}
    for number, wire, raw in _entries(data):
        spec = fields.get(number)
        if spec is None:
            continue
        _, field_name, kind, ref, repeated = spec
        if kind == "map":
            entry = {n: (w, v) for n, w, v in _entries(_payload(raw))}
            key_wire, key_raw = entry.get(1, (2, b""))
            val_wire, val_raw = entry.get(2, (2, b""))
            val_kind = ref[1] if ref[1] in SCALARS else "message"
            out.setdefault(field_name, {})[_scalar(ref[0], key_wire, key_raw)] = _value(
                val_kind, ref[1], val_wire, val_raw
            )
        elif repeated:
            items = out.setdefault(field_name, [])
            if kind not in ("message", "string", "bytes") and wire == 2:
                pos = 0
                while pos < len(raw):
                    item, pos = _varint(_payload(raw), pos)
                    items.append(_scalar(kind, 0, item))
            else:
                items.append(_value(kind, ref, wire, raw))
        else:
            out[field_name] = _value(kind, ref, wire, raw)
    return {k: v for k, v in out.items() if not _dropped(k, v)}


SCALARS = frozenset({"string", "bool", "int32", "int64", "bytes", "double", "float"})


def _dropped(name: str, value: Any) -> bool:
    if value is None or value == "":
        return True
    if value is False:
        return name not in _FALSE_KEPT
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value == 0
        and (name not in _ZERO_INTS)
    )


def decode(body: bytes) -> dict[str, Any]:
    """The JSON object of a protobuf request body (400 when malformed, 415 for unknown kinds)."""
    if not body.startswith(MAGIC):
        raise status.bad_request("the protobuf body lacks the k8s magic prefix")
    try:
        envelope = {n: v for n, _, v in _entries(body[len(MAGIC) :])}
        type_meta = {
            n: _payload(v).decode() for n, _, v in _entries(_payload(envelope.get(1, b"")))
        }
        api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        name = table()["kinds"].get(f"{api_version}/{kind}")
        if name is None:
            raise status.unsupported_media_type(CONTENT_TYPE, ("application/json",))
        obj = message(_payload(envelope.get(2, b"")), name)
    except (ProtobufError, UnicodeDecodeError, struct.error, ValueError, TypeError) as exc:
        raise status.bad_request(f"the protobuf body could not be decoded: {exc}") from exc
    if not isinstance(obj, dict):
        raise status.bad_request("the protobuf body is not an object")
    return {"apiVersion": api_version, "kind": kind, **obj}
