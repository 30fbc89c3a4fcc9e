"""Reading the data of a walked file: its data regions only, and whether it changed meanwhile.

A file's chunks cover the concatenation of its data regions (everything outside its
``holes``, docs/format.md §10.4), so a :class:`DataFile` reads exactly those regions, in
order: as ``(offset, bytes)`` pieces, or as one stream through ``read(n)``, which is what the
chunker (``strongroom.crypto.chunker``) reads. What it gives always adds up to the regions'
total length, whatever happens to the file, so the entry stays consistent: a file that
shrank while read has its missing end stored as zeros. A file whose size, mtime or ctime
after reading differ from the walk's ``lstat`` is reported through ``warn``
(:attr:`DataFile.changed`); the caller then marks the run PartiallyFailed, as restic and tar
do, rather than retrying.
"""

from __future__ import annotations

import collections.abc
import errno
import os
import stat
import types

from strongroom.engine.volumes import errors, tree

OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
#: The largest piece :meth:`DataFile.read` yields.
PIECE = 1 << 20


def find_holes(fd: int, size: int) -> tuple[tuple[int, int], ...]:
    """The holes of an open file below ``size``, by ``SEEK_DATA``/``SEEK_HOLE``."""
    holes = []
    position = 0
    while position < size:
        try:
            data = os.lseek(fd, position, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            data = size
        data = min(data, size)
        if data > position:
            holes.append((position, data - position))
        if data >= size:
            break
        position = min(os.lseek(fd, data, os.SEEK_HOLE), size)
    return tuple(holes)


def open_nofollow(source: bytes) -> int:
    """A read-only descriptor of ``source``, not following a symlink, without atime if allowed."""
    try:
        return os.open(source, OPEN_FLAGS | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        return os.open(source, OPEN_FLAGS)


def open_file(entry: tree.Entry, source: bytes, warn: errors.Warn) -> DataFile | None:
    """``entry``'s file at ``source``, if it is still that regular file (else warn, None)."""
    try:
        fd = open_nofollow(source)
    except OSError as exc:
        warn(entry.path, f"left out: {exc.strerror}")
        return None
    try:
        status = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        warn(entry.path, f"left out: {exc.strerror}")
        return None
    listed = (entry.dev, entry.inode)
    if not stat.S_ISREG(status.st_mode) or (
        None not in listed and (status.st_dev, status.st_ino) != listed
    ):
        os.close(fd)
        warn(entry.path, "left out: replaced by another file since it was listed")
        return None
    return DataFile(fd, entry, warn)


def read_whole(entry: tree.Entry, source: bytes, warn: errors.Warn) -> bytes | None:
    """All of a small file without holes (:func:`open_file`, then read and checked), or None."""
    datafile = open_file(entry, source, warn)
    if datafile is None:
        return None
    with datafile:
        return datafile.read(entry.size)


class DataFile:
    """An open regular file of a walk; a context manager that checks the file on closing.

    Its data regions are read in order, once, either as ``(offset, bytes)`` pieces
    (:meth:`pieces`) or as one stream (:meth:`read`, so that a DataFile is the
    ``Readable`` the chunker takes): not both.
    """

    def __init__(self, fd: int, entry: tree.Entry, warn: errors.Warn) -> None:
        self.entry = entry
        #: The file changed (or shrank) while read: the snapshot holds a mix of old and new.
        self.changed = False
        self._fd: int | None = fd
        self._warn = warn
        self._regions = iter(entry.regions())
        self._position = self._end = 0
        self._shrank = False

    @property
    def regions(self) -> list[tuple[int, int]]:
        """``(offset, length)`` of the data regions the chunks cover."""
        return self.entry.regions()

    def pieces(self, piece: int = PIECE) -> collections.abc.Iterator[tuple[int, bytes]]:
        """``(offset, bytes)`` pieces of at most ``piece`` bytes of every data region, in order."""
        while True:
            offset, data = self._next(piece)
            if not data:
                return
            yield offset, data

    def read(self, size: int, /) -> bytes:
        """Up to ``size`` bytes of the data regions joined, ``b""`` only at their end."""
        parts = []
        while size > 0:
            _, data = self._next(min(size, PIECE))
            if not data:
                break
            parts.append(data)
            size -= len(data)
        return b"".join(parts)

    def _next(self, size: int) -> tuple[int, bytes]:
        """The next bytes (at most ``size``) of the current region, moving to the next."""
        if self._position >= self._end:
            region = next(self._regions, None)
            if region is None:
                return self._end, b""
            self._position, self._end = region[0], region[0] + region[1]
        offset = self._position
        want = min(size, self._end - offset)
        data = b"" if self._shrank else os.pread(self._descriptor(), want, offset)
        if not data:
            self._shrank = True
            self._note_change("shrank while read: its missing end is stored as zeros")
            data = bytes(want)
        self._position += len(data)
        return offset, data

    def close(self) -> None:
        """Close the file, warning if its size, mtime or ctime moved since it was listed."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            status = os.fstat(fd)
        finally:
            os.close(fd)
        entry = self.entry
        ctime = status.st_ctime_ns if entry.ctime_ns is None else entry.ctime_ns
        if (status.st_size, status.st_mtime_ns, status.st_ctime_ns) != (
            entry.size,
            entry.mtime_ns,
            ctime,
        ):
            self._note_change("changed while read: the snapshot may hold a mix of old and new")

    def _descriptor(self) -> int:
        if self._fd is None:
            raise ValueError("the file is closed")
        return self._fd

    def _note_change(self, message: str) -> None:
        if not self.changed:
            self._warn(self.entry.path, message)
        self.changed = True

    def __enter__(self) -> DataFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self.close()
