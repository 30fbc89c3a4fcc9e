"""The streaming archive writer: Kubernetes objects in, padded zstd frames of a tar out.

Output (docs/format.md §8): zstd frames whose concatenated content is a POSIX tar starting with
``metadata/version``, then one entry per item in the order given, then the end-of-archive
blocks; then the Padmé skippable frame. Every Secret's entry (header, data and block padding)
is a zstd frame of its own, so it never shares a compression context with another object;
other entries are gathered into frames of at most ``frame_size`` bytes of tar (an entry larger
than that is cut across frames). Memory is bounded by ``frame_size`` (plus the largest item) and
a 16-byte digest per item, about 100 bytes with its set slot, kept to refuse duplicate paths.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import hashlib

from strongroom.archive import compress, errors, layout, padding, tarformat


@dataclasses.dataclass(frozen=True)
class Item:
    """One object to archive: ``body`` is its compact JSON, ``secret`` marks a Secret."""

    group_resource: str
    namespace: str | None
    name: str
    body: bytes
    secret: bool = False


@dataclasses.dataclass(frozen=True)
class WriterStats:
    """Counts of one :meth:`ArchiveWriter.iter_bytes` run (so far, while it runs).

    ``items`` excludes ``metadata/version``; ``bytes_in`` counts the uncompressed tar;
    ``bytes_out`` every byte yielded, the ``padding`` bytes of the final skippable frame
    included; ``frames`` counts zstd frames.
    """

    items: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    frames: int = 0
    padding: int = 0


def _epoch_seconds(mtime: datetime.datetime | int) -> int:
    if isinstance(mtime, datetime.datetime):
        if mtime.tzinfo is None:
            raise ValueError("mtime must be timezone-aware")
        return int(mtime.timestamp())
    return mtime


class ArchiveWriter:
    """Writes archives; ``mtime`` (the backup's start time) stamps every entry.

    ``level`` is the zstd level (1..19); ``frame_size`` the most tar bytes per shared frame.
    """

    def __init__(
        self,
        level: int = 3,
        frame_size: int = 1 << 20,
        *,
        mtime: datetime.datetime | int = 0,
    ) -> None:
        if frame_size < tarformat.BLOCK:
            raise ValueError(f"frame size {frame_size} is below {tarformat.BLOCK}")
        self._compressor = compress.compressor(level)
        self._frame_size = frame_size
        self._mtime = _epoch_seconds(mtime)
        self._reset()

    def _reset(self) -> None:
        self._items = self._bytes_in = self._bytes_out = self._frames = self._padding = 0

    @property
    def stats(self) -> WriterStats:
        """The counts of the current or last run."""
        return WriterStats(
            self._items, self._bytes_in, self._bytes_out, self._frames, self._padding
        )

    def _frame(self, data: bytes) -> bytes:
        out = self._compressor.compress(data)
        self._bytes_in += len(data)
        self._bytes_out += len(out)
        self._frames += 1
        return out

    def _entry(self, path: str, body: bytes) -> bytes:
        header = tarformat.entry_header(path, len(body), self._mtime)
        return b"".join((header, body, tarformat.block_padding(len(body))))

    def _shared_frames(self, batch: list[bytes], size: int) -> collections.abc.Iterator[bytes]:
        data = b"".join(batch)
        for start in range(0, size, self._frame_size):
            yield self._frame(data[start : start + self._frame_size])

    def iter_bytes(self, items: collections.abc.Iterable[Item]) -> collections.abc.Iterator[bytes]:
        """The archive of ``items``, pulled lazily: each piece is a frame or part of the padding.

        Raises ItemNameError for a name that cannot be a path and DuplicateItemError for a
        path seen twice (both before anything of that item is yielded).
        """
        self._reset()
        seen: set[bytes] = set()
        batch = [self._entry(layout.VERSION_PATH, layout.version_body())]
        batched = len(batch[0])
        for item in items:
            path = layout.item_path(item.group_resource, item.namespace, item.name)
            key = hashlib.blake2b(path.encode(), digest_size=16).digest()
            if key in seen:
                raise errors.DuplicateItemError(f"{path} is already in the archive")
            seen.add(key)
            entry = self._entry(path, item.body)
            self._items += 1
            if item.secret or batched + len(entry) > self._frame_size:
                if batched:
                    yield from self._shared_frames(batch, batched)
                batch, batched = [], 0
                if item.secret:
                    yield self._frame(entry)
                    continue
            batch.append(entry)
            batched += len(entry)
        batch.append(tarformat.END_OF_ARCHIVE)
        yield from self._shared_frames(batch, batched + len(tarformat.END_OF_ARCHIVE))
        for piece in padding.iter_padding(self._bytes_out):
            self._bytes_out += len(piece)
            self._padding += len(piece)
            yield piece
