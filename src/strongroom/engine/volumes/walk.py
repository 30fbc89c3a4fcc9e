"""Walking a folder in tree order (docs/format.md §10.4), and reading its files' data.

:func:`walk` yields one :class:`Found` per entry below the root, in exactly the order of a
tree: depth-first, the names of a folder sorted by their bytes, a folder after its contents.
Names are bytes throughout, so names that are not UTF-8 survive. Nothing is followed: entries
are ``lstat``-ed, folders are opened ``O_NOFOLLOW`` and checked to be the folder listed. The
walk holds one sorted listing per level of depth, and for hard links only the files with more
than one link (until all their links are seen).

Files are not read by the walk: the caller reads those that carry data
(:attr:`Found.needs_data`) through :meth:`Walk.open`, which yields their data regions (the
holes found by ``SEEK_DATA``/``SEEK_HOLE`` left out) and tells whether the file changed while
it was read. Anything that cannot be read (a folder or file without permission, a file that
vanished, extended attributes a filesystem does not have) is reported through ``warn`` and
left out, never silently; the run is then PartiallyFailed.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import errno
import os
import pathlib
import stat
import typing

from strongroom.engine.volumes import errors, reading, tree
from strongroom.engine.volumes.tree import EntryType

_NOT_SUPPORTED = {errno.ENOTSUP, errno.EOPNOTSUPP}
_SPECIAL = {
    stat.S_IFIFO: EntryType.FIFO,
    stat.S_IFSOCK: EntryType.SOCKET,
    stat.S_IFCHR: EntryType.CHARDEV,
    stat.S_IFBLK: EntryType.BLOCKDEV,
}


@dataclasses.dataclass(frozen=True, slots=True)
class Found:
    """An entry of the walk (files without their chunks) and where it is on disk."""

    entry: tree.Entry
    source: bytes

    @property
    def needs_data(self) -> bool:
        """A file whose data the snapshot stores: not a later name of a hard-linked file."""
        return self.entry.type == EntryType.FILE and self.entry.linkto is None


@dataclasses.dataclass(slots=True)
class _Frame:
    path: bytes
    source: bytes
    names: collections.abc.Iterator[bytes]
    found: Found | None


@dataclasses.dataclass(slots=True)
class _Links:
    group: int
    first: bytes | None
    unseen: int


def walk(
    root: pathlib.Path | bytes,
    *,
    warn: errors.Warn,
    xattrs: bool = True,
    one_file_system: bool = True,
) -> Walk:
    """The entries below ``root`` (which is followed if a symlink), in tree order.

    With ``one_file_system`` (the default) a folder on another filesystem than the root's is
    recorded, with a warning, but not descended into.
    """
    top = os.fsencode(root)
    try:
        status = os.stat(top)
    except OSError as exc:
        raise errors.RootError(f"{os.fsdecode(top)}: {exc.strerror}") from None
    if not stat.S_ISDIR(status.st_mode):
        raise errors.RootError(f"{os.fsdecode(top)}: not a folder")
    return Walk(top, status, warn=warn, xattrs=xattrs, one_file_system=one_file_system)


class Walk(collections.abc.Iterator[Found]):
    """The walk's iterator; also opens its files (:meth:`open`) and drops them (:meth:`drop`)."""

    def __init__(
        self,
        top: bytes,
        status: os.stat_result,
        *,
        warn: errors.Warn,
        xattrs: bool,
        one_file_system: bool,
    ) -> None:
        self._warn = warn
        self._xattrs = xattrs and hasattr(os, "listxattr")
        self._device = status.st_dev if one_file_system else None
        self._links: dict[tuple[int, int], _Links] = {}
        self._groups = 0
        self._no_xattrs: set[int] = set()
        try:
            names = sorted(os.listdir(top))
        except OSError as exc:
            raise errors.RootError(f"{os.fsdecode(top)}: {exc.strerror}") from None
        self._stack = [_Frame(b"", top, iter(names), None)]

    def __next__(self) -> Found:
        while self._stack:
            frame = self._stack[-1]
            name = next(frame.names, None)
            if name is None:
                self._stack.pop()
                if frame.found is not None:
                    return frame.found
                continue
            path = frame.path + b"/" + name if frame.path else name
            found = self._visit(path, os.path.join(frame.source, name))
            if found is not None:
                return found
        raise StopIteration

    def open(self, found: Found) -> reading.DataFile | None:
        """``found``'s file, opened for reading; None (after a warning) if it cannot be.

        The file must still be the one listed (same device and inode, a regular file); if it
        is not, or cannot be opened, it is dropped (:meth:`drop`) and None returned.
        """
        data = reading.open_file(found.entry, found.source, self._warn)
        if data is None:
            self.drop(found)
        return data

    def drop(self, found: Found) -> None:
        """Leave ``found`` out of the snapshot: the next name of its hard links carries the data.

        Call it before the walk goes on: a later name already yielded keeps its ``linkto``.
        """
        entry = found.entry
        if entry.linkgroup is None or entry.linkto is not None:
            return
        for links in self._links.values():
            if links.group == entry.linkgroup:
                links.first = None

    def _visit(self, path: bytes, source: bytes) -> Found | None:
        try:
            status = os.lstat(source)
        except OSError as exc:
            self._warn(path, f"left out: {exc.strerror}")
            return None
        entry = self._entry(path, source, status)
        if entry is None:
            return None
        found = Found(entry, source)
        if entry.type != EntryType.DIR:
            return found
        if self._device is not None and status.st_dev != self._device:
            self._warn(path, "another filesystem (a mount point): recorded empty, not descended")
            return found
        names = self._list(path, source, status)
        if names is None:
            return found
        self._stack.append(_Frame(path, source, iter(names), found))
        return None

    def _list(self, path: bytes, source: bytes, status: os.stat_result) -> list[bytes] | None:
        """The sorted names of a folder, if it is still the folder ``status`` describes."""
        try:
            fd = os.open(source, reading.OPEN_FLAGS | os.O_DIRECTORY)
        except OSError as exc:
            self._warn(path, f"folder not read, its contents are left out: {exc.strerror}")
            return None
        try:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (status.st_dev, status.st_ino):
                self._warn(path, "folder replaced while walked, its contents are left out")
                return None
            # Names from a descriptor come as str (surrogate-escaped): fsencode restores the bytes.
            return sorted(os.fsencode(name) for name in os.listdir(fd))
        except OSError as exc:
            self._warn(path, f"folder not read, its contents are left out: {exc.strerror}")
            return None
        finally:
            os.close(fd)

    def _entry(self, path: bytes, source: bytes, status: os.stat_result) -> tree.Entry | None:
        fmt = stat.S_IFMT(status.st_mode)
        target, rdev = b"", 0
        if fmt == stat.S_IFREG:
            return self._file(path, source, status)
        if fmt == stat.S_IFDIR:
            kind = EntryType.DIR
        elif fmt == stat.S_IFLNK:
            kind = EntryType.SYMLINK
            try:
                target = os.readlink(source)
            except OSError as exc:
                self._warn(path, f"symlink left out: {exc.strerror}")
                return None
        elif fmt in _SPECIAL:
            kind = _SPECIAL[fmt]
            if kind in (EntryType.CHARDEV, EntryType.BLOCKDEV):
                rdev = status.st_rdev
        else:
            self._warn(path, f"left out: unknown file type {fmt:o}")
            return None
        xattrs = self._read_xattrs(path, source, status)
        return _metadata(path, kind, status, xattrs, target=target, rdev=rdev)

    def _file(self, path: bytes, source: bytes, status: os.stat_result) -> tree.Entry | None:
        xattrs = self._read_xattrs(path, source, status)
        linkgroup = None
        if status.st_nlink > 1:
            key = (status.st_dev, status.st_ino)
            links = self._links.get(key)
            if links is None:
                links = self._links[key] = _Links(self._groups, None, status.st_nlink)
                self._groups += 1
            links.unseen -= 1
            if links.unseen <= 0:
                del self._links[key]
            linkgroup = links.group
            if links.first is not None:
                return _metadata(
                    path, EntryType.FILE, status, xattrs, linkgroup=linkgroup, linkto=links.first
                )
            links.first = path
        holes: tuple[tuple[int, int], ...] = ()
        if status.st_blocks * 512 < status.st_size:
            try:
                fd = reading.open_nofollow(source)
                try:
                    holes = reading.find_holes(fd, status.st_size)
                finally:
                    os.close(fd)
            except OSError as exc:
                self._warn(path, f"left out: {exc.strerror}")
                entry = _metadata(path, EntryType.FILE, status, xattrs, linkgroup=linkgroup)
                self.drop(Found(entry, source))
                return None
        return _metadata(path, EntryType.FILE, status, xattrs, linkgroup=linkgroup, holes=holes)

    def _read_xattrs(
        self, path: bytes, source: bytes, status: os.stat_result
    ) -> tuple[tuple[str, bytes], ...]:
        if not self._xattrs or status.st_dev in self._no_xattrs:
            return ()
        try:
            names = os.listxattr(source, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in _NOT_SUPPORTED:
                self._no_xattrs.add(status.st_dev)
                self._warn(path, "no extended attributes on this filesystem: none recorded on it")
            else:
                self._warn(path, f"extended attributes left out: {exc.strerror}")
            return ()
        pairs = []
        for name in sorted(names):
            try:
                name.encode("utf-8")
                pairs.append((name, os.getxattr(source, name, follow_symlinks=False)))
            except UnicodeEncodeError:
                self._warn(path, "an extended attribute whose name is not UTF-8 is left out")
            except OSError as exc:
                if exc.errno != errno.ENODATA:
                    self._warn(path, f"extended attribute {name} left out: {exc.strerror}")
        return tuple(pairs)


def _metadata(
    path: bytes,
    kind: EntryType,
    status: os.stat_result,
    xattrs: tuple[tuple[str, bytes], ...],
    **fields: typing.Any,
) -> tree.Entry:
    """The entry of ``status`` (a file's size from it too), with ``fields`` of its type."""
    return tree.Entry(
        path,
        kind,
        stat.S_IMODE(status.st_mode),
        status.st_uid,
        status.st_gid,
        status.st_mtime_ns,
        size=status.st_size if kind == EntryType.FILE else 0,
        xattrs=xattrs,
        inode=status.st_ino,
        dev=status.st_dev,
        ctime_ns=status.st_ctime_ns,
        links=status.st_nlink,
        **fields,
    )
