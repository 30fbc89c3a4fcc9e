"""The small MAC'd documents of volume sessions and collections (docs/format.md §10.6).

Clear JSON (they hold ids and times only), MAC'd with the epoch's ``volume-mac`` subkey, so
the bucket can delete them but not forge or alter them.
"""

from __future__ import annotations

import hmac
from typing import Any

from strongroom.repository import documents, errors, objects
from strongroom.repository.volumes.keys import VolumeKeys
from strongroom.storage import base as storage_base

SESSION_FORMAT = "strongroom.io/volume-session/v1"
CANDIDATES_FORMAT = "strongroom.io/volume-gc/v1"
WAITING_FORMAT = "strongroom.io/volume-gc-wait/v1"
MAX_RECORD = 16 << 20


class OtherEpoch(Exception):
    """The record says it is of another epoch: not this collection's business (if the claim is
    false, it is a deletion in effect, which the bucket could do anyway)."""


def seal(keys: VolumeKeys, fmt: str, body: dict[str, Any]) -> bytes:
    doc = {"format": fmt, "repository": keys.repository, "epoch": keys.epoch, **body}
    mac = hmac.digest(keys.mac_key, documents.canonical(doc), "sha256")
    return documents.canonical({**doc, "mac": documents.b64(mac)})


def read(backend: storage_base.Backend, name: str, keys: VolumeKeys, fmt: str) -> dict[str, Any]:
    """The record ``name``, authenticated; an integrity violation naming it otherwise."""
    doc = documents.parse_json(objects.read_small(backend, name, MAX_RECORD), name)
    documents.expect_format(doc, fmt, name)
    mac = documents.unb64(doc.pop("mac", None), name)
    if doc.get("repository") != keys.repository:
        raise errors.IntegrityViolation(f"{name}: a record of another repository")
    if doc.get("epoch") != keys.epoch:
        raise OtherEpoch(name)
    expected = hmac.digest(keys.mac_key, documents.canonical(doc), "sha256")
    if not hmac.compare_digest(mac, expected):
        raise errors.IntegrityViolation(f"{name}: MAC does not verify")
    return doc
