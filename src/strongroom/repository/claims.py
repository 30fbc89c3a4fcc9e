"""Name claims ``n/<tag>``: create-only objects that make backup and restore names unique.

The tag is a keyed HMAC of the name (format §7), so names never appear in the bucket; the
payload holds only opaque ids.
"""

from __future__ import annotations

import base64
import hmac
import json

from strongroom import errors as base_errors
from strongroom.repository import documents, errors, objects
from strongroom.storage import base as storage_base

PREFIX = "n/"


def name(tag_key: bytes, kind: str, value: str) -> str:
    digest = hmac.digest(tag_key, kind.encode() + b"\0" + value.encode(), "sha256")
    return PREFIX + base64.b32encode(digest).decode("ascii").lower()[:26]


def take(
    backend: storage_base.Backend, claim: str, kind: str, value: str, ids: dict[str, str]
) -> None:
    """Claim ``value``; raises :class:`errors.NameTaken` when someone already has."""
    try:
        backend.put(claim, documents.canonical(ids))
    except base_errors.AlreadyExistsError as exc:
        raise errors.NameTaken(f"{kind} {value!r} already exists") from exc


def read(backend: storage_base.Backend, claim: str, kind: str, value: str) -> dict[str, str]:
    """The ids a claim points to; raises the kind's not-found error when there is none."""
    missing = errors.BackupNotFound if kind == "backup" else errors.RestoreNotFound
    try:
        data = objects.read_small(backend, claim, 4096)
    except base_errors.NotFoundError as exc:
        raise missing(f"{kind} {value!r} not found") from exc
    try:
        ids = json.loads(data)
    except ValueError:
        ids = None
    expected = {"backup"} if kind == "backup" else {"backup", "restore"}
    if (
        not isinstance(ids, dict)
        or set(ids) != expected
        or not all(isinstance(v, str) and documents.is_id(v) for v in ids.values())
    ):
        raise errors.IntegrityViolation(f"{claim}: malformed name claim of {kind} {value!r}")
    return ids
