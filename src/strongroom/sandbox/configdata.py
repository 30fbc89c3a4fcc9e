"""ConfigMap and Secret data: stringData folding, key and size rules, immutability.

As on a real server: keys match ``[-._a-zA-Z0-9]+``, Secret data (and binaryData) is base64,
the decoded total is at most 1 MiB, a Secret's ``stringData`` is folded into ``data``, a
Secret's type never changes, and ``immutable: true`` freezes the data for good.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from strongroom.sandbox import status

Obj = dict[str, Any]
Cause = status.Cause

_IMMUTABLE_MSG = "field is immutable when `immutable` is set"
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)


def fold_string_data(secret: Obj) -> None:
    """Merge a Secret's write-only ``stringData`` into ``data`` (base64), as the server does."""
    extra = secret.pop("stringData", None)
    if isinstance(extra, dict) and extra:
        data = secret.get("data")
        data = dict(data) if isinstance(data, dict) else {}
        for k, v in extra.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        secret["data"] = data


_MAX_DATA = 1024 * 1024


def _data_size(obj: Obj) -> int:
    """The decoded size of data and binaryData (base64 in Secrets and binaryData)."""
    size = 0
    for part in ("data", "binaryData"):
        mapping = obj.get(part)
        encoded = part == "binaryData" or obj.get("kind") == "Secret"
        if isinstance(mapping, dict):
            size += sum(
                len(str(k)) + (len(str(v)) * 3 // 4 if encoded else len(str(v)))
                for k, v in mapping.items()
            )
    return size


def key_causes(obj: Obj, parts: tuple[str, ...]) -> list[Cause]:
    causes = []
    if _data_size(obj) > _MAX_DATA:
        causes.append(
            status.field(
                "data", f"Too long: must have at most {_MAX_DATA} bytes", "FieldValueTooLong"
            )
        )
    for part in parts:
        mapping = obj.get(part)
        if mapping is None:
            continue
        if not isinstance(mapping, dict):
            causes.append(status.field(part, "Invalid value: must be a map of strings"))
            continue
        for k, v in mapping.items():
            if not _CONFIG_KEY.fullmatch(k) or len(k) > 253:
                causes.append(
                    status.field(
                        f"{part}[{k}]", f"Invalid value: {json.dumps(k)}: {_CONFIG_KEY_MSG}"
                    )
                )
            if not isinstance(v, str):
                causes.append(
                    status.field(
                        f"{part}[{k}]", f"Invalid value: {json.dumps(v)}: must be a string"
                    )
                )
            elif part in ("binaryData",) or (part == "data" and obj.get("kind") == "Secret"):
                try:
                    base64.b64decode(v, validate=True)
                except (binascii.Error, ValueError):
                    causes.append(
                        status.field(
                            f"{part}[{k}]", 'Invalid value: "<value>": illegal base64 data'
                        )
                    )
    return causes


def immutable_causes(obj: Obj, old: Obj) -> list[Cause]:
    causes: list[Cause] = []
    if old.get("type") is not None and obj.get("type") != old.get("type"):
        causes.append(
            status.field(
                "type", f"Invalid value: {json.dumps(obj.get('type'))}: field is immutable"
            )
        )
    if not old.get("immutable"):
        return causes
    if not obj.get("immutable"):
        causes.append(
            status.field("immutable", f"Forbidden: {_IMMUTABLE_MSG}", "FieldValueForbidden")
        )
    for part in ("data", "binaryData", "stringData"):
        if obj.get(part) != old.get(part) and part != "stringData":
            causes.append(status.field(part, f"Forbidden: {_IMMUTABLE_MSG}", "FieldValueForbidden"))
    return causes
