"""S3 location settings, spelled as in a Velero BackupStorageLocation.

``bucket`` and ``prefix`` come from ``objectStorage``; ``config`` takes these keys only:

==========================  =========================================================
``region``                  the bucket's region (default ``us-east-1``)
``s3Url``                   endpoint URL for S3-compatible servers (MinIO, Ceph, ...)
``insecureSkipTLSVerify``   ``true`` to skip TLS certificate checks (default ``false``)
``profile``                 the profile in the AWS shared credentials/config files
``s3ForcePathStyle``        ``true`` for path-style URLs (default ``false``)
``objectLockMode``          ``GOVERNANCE`` or ``COMPLIANCE``: retain objects under object lock
``objectLockDays``          days each such object is retained (required with the mode)
``objectLockPrefix``        which names get retention (default ``b/``: backup data, not keys)
==========================  =========================================================

An unknown key or a malformed value is a :class:`StorageUsageError` naming the key.
Credentials are never part of the settings: they come from the standard AWS chain
(environment, shared files, the profile, instance or web identity).
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from collections import abc

from strongroom.storage import errors, names

KEYS = (
    "region",
    "s3Url",
    "insecureSkipTLSVerify",
    "profile",
    "s3ForcePathStyle",
    "objectLockMode",
    "objectLockDays",
    "objectLockPrefix",
)
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
DEFAULT_REGION = "us-east-1"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9][a-z0-9\-]{0,40}")


@dataclasses.dataclass(frozen=True)
class Retention:
    """Object-lock retention for names starting with ``prefix``: written once, kept ``days``.

    Only data prefixes should be locked: keys (``k/``) must stay deletable so that a backup
    can be crypto-shredded while its locked data waits out its retention.
    """

    mode: str
    days: int
    prefix: str

    def applies(self, name: str) -> bool:
        return name.startswith(self.prefix)


@dataclasses.dataclass(frozen=True)
class S3Settings:
    """A validated S3 location; ``prefix`` has no surrounding slashes ("" for the root)."""

    bucket: str
    prefix: str = ""
    region: str = DEFAULT_REGION
    endpoint_url: str | None = None
    verify_tls: bool = True
    profile: str | None = None
    path_style: bool = False
    retention: Retention | None = None

    @property
    def location(self) -> str:
        """``s3://bucket/prefix``, plus the endpoint when one is set; no credentials."""
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where


def _flag(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise errors.StorageUsageError(f"config key {key}: expected true or false, got {value!r}")
    return lowered == "true"


def _endpoint(value: str) -> str:
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise errors.StorageUsageError(f"config key s3Url: expected an http(s) URL, got {value!r}")
    if parsed.username or parsed.password:
        raise errors.StorageUsageError("config key s3Url: credentials do not belong in the URL")
    return value.rstrip("/")


def _prefix(prefix: str) -> str:
    stripped = prefix.strip("/")
    problem = names.location_prefix_problem(stripped) if stripped else None
    if problem:
        raise errors.StorageUsageError(f"invalid prefix {prefix[:80]!r}: {problem}")
    return stripped


def parse(bucket: str, prefix: str = "", config: abc.Mapping[str, str] | None = None) -> S3Settings:
    """Validate ``bucket``, ``prefix`` and the BSL ``config`` keys into :class:`S3Settings`."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(KEYS))
    if unknown:
        raise errors.StorageUsageError(
            f"unknown s3 config key {unknown[0]!r} (known: {', '.join(KEYS)})"
        )
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise errors.StorageUsageError(f"invalid S3 bucket name {bucket[:80]!r}")
    region = config.get("region", "").strip() or DEFAULT_REGION
    if not _REGION.fullmatch(region):
        raise errors.StorageUsageError(f"config key region: invalid region {region!r}")
    url = config.get("s3Url", "").strip()
    return S3Settings(
        bucket=bucket,
        prefix=_prefix(prefix),
        region=region,
        endpoint_url=_endpoint(url) if url else None,
        verify_tls=not _flag("insecureSkipTLSVerify", config.get("insecureSkipTLSVerify", "false")),
        profile=config.get("profile", "").strip() or None,
        path_style=_flag("s3ForcePathStyle", config.get("s3ForcePathStyle", "false")),
        retention=_retention(config),
    )


def _retention(config: abc.Mapping[str, str]) -> Retention | None:
    mode = config.get("objectLockMode", "").strip().upper()
    days = config.get("objectLockDays", "").strip()
    if not mode and not days:
        return None
    if mode not in LOCK_MODES:
        raise errors.StorageUsageError(
            f"config key objectLockMode: expected one of {', '.join(LOCK_MODES)}"
        )
    if not days.isdigit() or not 1 <= int(days) <= 36500:
        raise errors.StorageUsageError(
            "config key objectLockDays: expected a number of days from 1"
        )
    prefix = config.get("objectLockPrefix", "b/").strip()
    if not prefix or names.location_prefix_problem(prefix.rstrip("/")):
        raise errors.StorageUsageError(f"config key objectLockPrefix: invalid prefix {prefix!r}")
    return Retention(mode, int(days), prefix)
