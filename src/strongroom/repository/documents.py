"""Ids, canonical JSON and the small documents of the format (docs/format.md §1)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import typing
from typing import Any

from strongroom.repository import errors

Id = typing.NewType("Id", str)
_ID = re.compile(r"[a-z2-7]{26}")


def new_id() -> Id:
    """16 random bytes as 26 lowercase base32 characters."""
    return Id(base64.b32encode(os.urandom(16)).decode("ascii").rstrip("=").lower())


def is_id(text: str) -> bool:
    return bool(_ID.fullmatch(text))


def id_bytes(value: str) -> bytes:
    return base64.b32decode(value.upper() + "======")


def id_from_bytes(raw: bytes) -> Id:
    """The id of 16 bytes (the inverse of :func:`id_bytes`)."""
    if len(raw) != 16:
        raise ValueError("an id is 16 bytes")
    return Id(base64.b32encode(raw).decode("ascii").rstrip("=").lower())


def canonical(doc: Any) -> bytes:
    """Sorted keys, no white space, UTF-8: the bytes every MAC and hash is computed over."""
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, where: str) -> bytes:
    if not isinstance(text, str):
        raise errors.IntegrityViolation(f"{where}: expected base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise errors.IntegrityViolation(f"{where}: malformed base64") from exc


def parse_json(data: bytes, where: str) -> dict[str, Any]:
    """A JSON object read from storage; anything else is an integrity violation."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.IntegrityViolation(f"{where}: not a JSON document") from exc
    if not isinstance(doc, dict):
        raise errors.IntegrityViolation(f"{where}: not a JSON object")
    return doc


def require(doc: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise errors.IntegrityViolation(f"{where}: field {key!r} missing or not a {kind.__name__}")
    return value


def expect_format(doc: dict[str, Any], fmt: str, where: str) -> None:
    found = doc.get("format")
    if found != fmt:
        raise errors.UnsupportedRepository(f"{where}: format {found!r} is not {fmt!r}")
