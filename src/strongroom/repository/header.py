"""The clear repository header ``repository`` (format §3): enough to find a repository.

Read before any key is open, so nothing in it is believed but the repository id (which the
client compares with its configuration); :func:`check` authenticates it against the keyring.
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Any

from strongroom import errors as base_errors
from strongroom.repository import documents, errors, objects
from strongroom.repository import keyring as keyring_mod
from strongroom.storage import base as storage_base

FORMAT = "strongroom.io/repository/v1"
HEADER = "repository"
SUPPORTED_FEATURES: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class Header:
    """The clear repository header: enough to find the repository, nothing more."""

    repository: documents.Id
    created: str
    mandatory_features: tuple[str, ...]
    mac: bytes
    raw: dict[str, Any]
    #: SHA-256 (hex) of the stored header object, which a v2 keyring commits to.
    sha256: str = ""


def read_header(backend: storage_base.Backend) -> Header | None:
    """The header at this location, or None when no repository is there. Unauthenticated:
    only its repository id is used before the keyring is open (format §3)."""
    try:
        data = objects.read_small(backend, HEADER, 64 << 10)
    except base_errors.NotFoundError:
        return None
    doc = documents.parse_json(data, HEADER)
    documents.expect_format(doc, FORMAT, HEADER)
    repo_id = documents.require(doc, "repository", str, HEADER)
    if not documents.is_id(repo_id):
        raise errors.IntegrityViolation(f"{HEADER}: malformed repository id")
    features = documents.require(doc, "mandatoryFeatures", list, HEADER)
    mac = documents.unb64(doc.pop("mac", None), HEADER)
    return Header(
        documents.Id(repo_id),
        documents.require(doc, "created", str, HEADER),
        tuple(str(f) for f in features),
        mac,
        doc,
        documents.sha256_hex(data),
    )


def check(header: Header, ring: keyring_mod.Keyring) -> None:
    """The stored header is the one the keyring commits to; only then its features count."""
    if ring.version >= 2:
        if not hmac.compare_digest(ring.header, header.sha256):
            raise errors.IntegrityViolation(
                f"{HEADER}: not the header the keyring commits to (replaced)"
            )
    else:
        body = documents.canonical(header.raw)
        expected = hmac.digest(ring.subkey(1, "repository-mac"), body, "sha256")
        if not hmac.compare_digest(expected, header.mac):
            raise errors.IntegrityViolation(f"{HEADER}: header MAC does not verify")
    unknown = sorted(f for f in header.mandatory_features if f not in SUPPORTED_FEATURES)
    if unknown:
        raise errors.UnsupportedRepository(
            f"{HEADER}: needs features this client lacks: {', '.join(unknown)}"
        )
