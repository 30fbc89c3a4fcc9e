"""A wrapper that refuses every change: for restores, verification and read-only locations."""

from __future__ import annotations

from collections import abc

from strongroom.storage import base, errors, streams


class ReadOnlyBackend:
    """``inner`` for reading only: ``put`` and ``delete`` raise :class:`StoragePermissionDenied`.

    Refused calls never reach ``inner``; reads, listing and ``probe`` pass straight through.
    """

    def __init__(self, inner: base.Backend) -> None:
        self.inner = inner

    @property
    def location(self) -> str:
        return self.inner.location

    def _refuse(self, verb: str, name: str) -> errors.StoragePermissionDenied:
        return errors.StoragePermissionDenied(
            f"location {self.inner.location} is read-only: {verb} of {name} refused"
        )

    def put(self, name: str, data: base.Data) -> None:
        raise self._refuse("put", name)

    def get(self, name: str, offset: int = 0, length: int | None = None) -> streams.ObjectReader:
        return self.inner.get(name, offset, length)

    def stat(self, name: str) -> base.ObjectInfo:
        return self.inner.stat(name)

    def list(self, prefix: str = "", *, after: str = "") -> abc.Iterator[base.ObjectInfo]:
        return self.inner.list(prefix, after=after)

    def delete(self, name: str) -> None:
        raise self._refuse("delete", name)

    def purge(self, prefix: str) -> None:
        raise self._refuse("purge", prefix)

    def clear_unfinished(self, prefix: str, before: float) -> int:
        raise self._refuse("clearing unfinished puts", prefix)

    def probe(self) -> None:
        self.inner.probe()
