"""Opening a backend from a storage location's provider, bucket, prefix and config.

The two functions here are what the layers above call; they never name a backend class.
"""

from __future__ import annotations

import pathlib
from collections import abc

from strongroom.storage import base, errors, filesystem, names, retry, s3config

PROVIDERS = ("filesystem", "s3")


def _open_filesystem(folder: str, prefix: str, config: abc.Mapping[str, str]) -> base.Backend:
    if config:
        key = sorted(config)[0]
        raise errors.StorageUsageError(f"unknown filesystem config key {key!r} (it takes none)")
    if not folder.strip():
        raise errors.StorageUsageError("a filesystem location needs a folder as its bucket")
    root = pathlib.Path(folder).expanduser()
    stripped = prefix.strip("/")
    if stripped:
        problem = names.location_prefix_problem(stripped)
        if problem:
            raise errors.StorageUsageError(f"invalid prefix {prefix[:80]!r}: {problem}")
        root = root / stripped
    return filesystem.FilesystemBackend(root)


def _open_s3(bucket: str, prefix: str, config: abc.Mapping[str, str]) -> base.Backend:
    from strongroom.storage import s3  # boto3 loads only when an S3 location is used

    return s3.S3Backend(s3config.parse(bucket, prefix, config))


def open_backend(
    provider: str,
    bucket: str,
    prefix: str = "",
    config: abc.Mapping[str, str] | None = None,
) -> base.Backend:
    """The backend for a location, wrapped in :class:`retry.RetryingBackend`.

    ``provider`` is ``filesystem`` (``bucket`` is a folder, created on the first put) or ``s3``
    (``config`` keys as in :mod:`s3config`). ``prefix`` scopes every name to a sub-folder or
    key prefix. No I/O happens here: call :func:`probe` to check the location. An unknown
    provider, unknown config key or malformed value raises :class:`StorageUsageError`.
    """
    config = config or {}
    if provider == "filesystem":
        backend = _open_filesystem(bucket, prefix, config)
    elif provider == "s3":
        backend = _open_s3(bucket, prefix, config)
    else:
        raise errors.StorageUsageError(
            f"unknown storage provider {provider!r} (known: {', '.join(PROVIDERS)})"
        )
    return retry.RetryingBackend(backend)


def probe(backend: base.Backend) -> None:
    """Check, read-only and in a few seconds, that ``backend`` is reachable and usable.

    S3: the bucket exists and these credentials may read and list it (HeadBucket and a
    one-key ListObjectsV2). Filesystem: the folder exists or can be created, and can be
    written. Raises :class:`BucketNotFound`, :class:`StoragePermissionDenied` or
    :class:`StorageUnreachable`; not retried.
    """
    backend.probe()
