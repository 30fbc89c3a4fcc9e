"""The backend port: five data verbs on opaque, validated names, plus a reachability probe.

A backend is a dumb store of immutable byte strings. It knows nothing of repositories, keys
or Kubernetes; it sees only ciphertext and the names in :mod:`strongroom.storage.names`.
Retrying, read-only access and the like are wrappers around a backend (``retry``,
``readonly``), never options inside one.

Every method raises only :mod:`strongroom.storage.errors` classes.
"""

from __future__ import annotations

import dataclasses
import typing
from collections import abc

from strongroom.storage import streams


class Readable(typing.Protocol):
    """A stream for :meth:`Backend.put`: ``read(n)`` gives at most n bytes, b"" at the end."""

    def read(self, size: int, /) -> bytes: ...


#: What :meth:`Backend.put` stores: the bytes themselves, or a stream read to its end.
Data = bytes | Readable


@dataclasses.dataclass(frozen=True)
class ObjectInfo:
    """One stored object: its name (relative to the backend's root), its size in bytes, and
    when it was last written (POSIX seconds) where the backend knows it."""

    name: str
    size: int
    modified: float | None = dataclasses.field(default=None, compare=False)


class Backend(typing.Protocol):
    """Object storage behind a flat name space; see each verb's contract."""

    @property
    def location(self) -> str:
        """Where the objects live, for messages: a folder or ``s3://bucket/prefix``.

        Never contains credentials.
        """
        ...

    def put(self, name: str, data: Data) -> None:
        """Store ``data`` under ``name``, CREATE-ONLY.

        Raises :class:`ObjectExists` if ``name`` already exists, and then the stored object is
        unchanged: a put never overwrites. A stream is read to its end in bounded pieces, never
        held whole in memory. On any failure nothing is visible under ``name`` (an object is
        either absent or complete). Raises :class:`InvalidName` for a bad name before any I/O.
        """
        ...

    def get(self, name: str, offset: int = 0, length: int | None = None) -> streams.ObjectReader:
        """Open ``length`` bytes of ``name`` from ``offset`` (to the end when None) for reading.

        The reader streams: the object is never held whole in memory. Close it (it is a context
        manager). Raises :class:`ObjectNotFound` if there is no such object and
        :class:`ShortReadError` when the object ends before ``offset + length`` (also when the
        stream is cut short while reading). ``offset`` equal to the size with ``length`` None
        or 0 gives an empty reader.
        """
        ...

    def stat(self, name: str) -> ObjectInfo:
        """The size of ``name``; raises :class:`ObjectNotFound` if there is no such object."""
        ...

    def list(self, prefix: str = "", *, after: str = "") -> abc.Iterator[ObjectInfo]:
        """Every object whose name starts with ``prefix``, sorted by name, lazily.

        Recursive over the flat name space: ``list("a/")`` yields ``a/b`` and ``a/b/c``.
        Only names greater than ``after`` are yielded (to resume an interrupted listing).
        Pages through the store internally; an empty or missing prefix yields nothing.
        """
        ...

    def delete(self, name: str) -> None:
        """Remove ``name``. Idempotent: deleting a missing object succeeds silently."""
        ...

    def purge(self, prefix: str) -> None:
        """Remove every object under ``prefix`` (which ends in ``/``) and whatever the backend
        keeps there that :meth:`list` does not show: the temporary files of interrupted puts
        (filesystem) or incomplete multipart uploads (S3). Idempotent. For what a crashed
        writer leaves behind; it does not wait for writers still running under ``prefix``.
        """
        ...

    def clear_unfinished(self, prefix: str, before: float) -> int:
        """Remove the unfinished puts under the folder ``prefix`` (ending in ``/``) that began,
        or last wrote, before ``before`` (POSIX seconds): temporary files of interrupted puts
        (filesystem), incomplete multipart uploads (S3). Objects are never touched. The caller
        knows that no put still running there is that old. Returns how many were removed.
        """
        ...

    def probe(self) -> None:
        """Check, without changing anything, that the location is reachable and usable.

        Raises :class:`BucketNotFound`, :class:`StoragePermissionDenied` or
        :class:`StorageUnreachable` with a one-line cause. Backends document what they check.
        """
        ...
