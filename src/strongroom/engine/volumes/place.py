"""Restoring a tree's entries into a target folder, never writing outside it.

:class:`Placer` takes entries in tree order (docs/format.md §10.4) and creates each below the
target. Every operation is relative to a descriptor of the folder it happens in, and every
folder is entered with ``O_NOFOLLOW``: a symlink in the way of a path (one already in the
target, or one a tampered tree asks for) is refused with a warning, never followed, and
paths with ``..``, ``.``, empty components or a leading ``/`` are refused as a TreeError.
Folders are created ``0700`` as their first entry arrives and get their owner, mode and
times when their own line arrives, after their contents.

A file is written to ``.strongroom-tmp-<random>`` beside its final name, holes left as holes
(the file is truncated to its size and only data regions written), and renamed into place
only once all its data was written and its metadata set; if the data fails (an integrity
error of a chunk), the temporary file is removed and the error goes on. In a folder this
restore created (or an empty target), where no other name can be, the file is written under
its own name (``O_EXCL``) and removed the same way if its data fails: no ``stat`` of the
name, no rename. Metadata is set in
the order owner, extended attributes, mode, times: ``chown`` clears set-id bits, and a user
may not set ``user.*`` attributes on a file it made read-only. Without root (``as_root``),
owners are not set (one warning for the whole restore) and devices are not created (a
warning each).

Per-entry problems (a name taken and ``overwrite`` off, a folder that cannot be entered,
an attribute the filesystem refuses) go to ``warn`` and the entry is skipped; the restore
goes on and ends PartiallyFailed.
"""

from __future__ import annotations

import collections.abc
import contextlib
import dataclasses
import errno
import os
import pathlib
import secrets
import stat
import types

from strongroom.engine.volumes import errors, tree
from strongroom.engine.volumes.tree import EntryType

TEMPORARY_PREFIX = b".strongroom-tmp-"
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_NODE_TYPES = {
    EntryType.FIFO: stat.S_IFIFO,
    EntryType.SOCKET: stat.S_IFSOCK,
    EntryType.CHARDEV: stat.S_IFCHR,
    EntryType.BLOCKDEV: stat.S_IFBLK,
}
_NOT_SUPPORTED = {errno.ENOTSUP, errno.EOPNOTSUPP}

Pieces = collections.abc.Iterable[tuple[int, bytes | memoryview]]


@dataclasses.dataclass(slots=True)
class _Folder:
    name: bytes
    fd: int
    created: bool


def _refuse_unsafe(path: bytes) -> None:
    problem = tree.path_problem(path)
    if problem is not None:
        raise errors.TreeError(f"refused to restore a path that {problem}: {path!r}")


class Placer:
    """Creates entries below ``target``; a context manager (it holds folder descriptors)."""

    def __init__(
        self,
        target: pathlib.Path,
        *,
        overwrite: bool = False,
        as_root: bool | None = None,
        warn: errors.Warn,
    ) -> None:
        self._overwrite = overwrite
        self._as_root = os.geteuid() == 0 if as_root is None else as_root
        self._warn = warn
        try:
            os.makedirs(target, exist_ok=True)
            self._root = os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            self._root_fresh = not overwrite and not os.listdir(self._root)
        except OSError as exc:
            raise errors.RootError(f"{target}: {exc.strerror}") from None
        self._stack: list[_Folder] = []
        self._identity = (os.geteuid(), os.getegid())
        self._links: dict[int, bytes] = {}
        self._blocked: bytes | None = None
        self._owner_warned = False
        self._no_xattrs = False

    # -- entries ------------------------------------------------------------------------------

    def place(self, entry: tree.Entry, pieces: Pieces = ()) -> bool:
        """Restore ``entry`` (``pieces``: a data-carrying file's data); False if skipped."""
        if entry.type == EntryType.DIR:
            return self.directory(entry)
        if entry.type == EntryType.FILE:
            return self.link(entry) if entry.linkto is not None else self.file(entry, pieces)
        if entry.type == EntryType.SYMLINK:
            return self.symlink(entry)
        return self.node(entry)

    def directory(self, entry: tree.Entry) -> bool:
        """A folder's own line: create it if its contents did not, then set its metadata."""
        if not self._reachable(entry.path):
            return False
        fd = self._descend(entry.path.split(b"/"))
        if fd is None:
            return False
        folder = self._stack.pop()
        try:
            if folder.created or self._overwrite:
                self._finish(entry, fd)
            else:
                self._warn(entry.path, "folder existed: its owner, mode and times are left as is")
        finally:
            os.close(folder.fd)
        return True

    def file(self, entry: tree.Entry, pieces: Pieces) -> bool:
        """A file with its data: written to a temporary name, renamed once complete; or, in
        a folder this restore created (nothing else can be in it), written in place."""
        where = self._room(entry)
        if where is None:
            return False
        folder, name = where
        fresh = self._fresh()
        written = name if fresh else TEMPORARY_PREFIX + secrets.token_hex(8).encode()
        try:
            fd = os.open(written, _FILE_FLAGS, 0o600, dir_fd=folder)
        except OSError as exc:
            reason = "exists: not overwritten" if exc.errno == errno.EEXIST and fresh else None
            self._warn(entry.path, reason or f"not restored: {exc.strerror}")
            return False
        try:
            try:
                if entry.holes:
                    os.ftruncate(fd, entry.size)
                _write(fd, entry, pieces)
                self._finish(entry, fd, fresh)
            finally:
                os.close(fd)
            if not fresh:
                os.rename(written, name, src_dir_fd=folder, dst_dir_fd=folder)
        except OSError as exc:
            _remove(folder, written)
            self._warn(entry.path, f"not restored: {exc.strerror}")
            return False
        except BaseException:
            _remove(folder, written)
            raise
        if entry.linkgroup is not None:
            self._links[entry.linkgroup] = entry.path
        return True

    def link(self, entry: tree.Entry) -> bool:
        """A later name of a hard-linked file: a link to the name restored first."""
        first = self._links.get(entry.linkgroup) if entry.linkgroup is not None else None
        if first is None:
            self._warn(entry.path, "hard link not restored: the file it links to was not")
            return False
        _refuse_unsafe(first)
        source = self._open_existing(first.split(b"/")[:-1])
        if source is None:
            self._warn(entry.path, "hard link not restored: the file it links to moved")
            return False
        try:
            where = self._room(entry, replace=True)
            if where is None:
                return False
            folder, name = where
            os.link(
                first.rpartition(b"/")[2],
                name,
                src_dir_fd=source,
                dst_dir_fd=folder,
                follow_symlinks=False,
            )
        except OSError as exc:
            self._warn(entry.path, f"hard link not restored: {exc.strerror}")
            return False
        finally:
            if source != self._root:
                os.close(source)
        return True

    def symlink(self, entry: tree.Entry) -> bool:
        where = self._room(entry, replace=True)
        if where is None:
            return False
        folder, name = where
        try:
            os.symlink(entry.target, name, dir_fd=folder)
        except OSError as exc:
            self._warn(entry.path, f"symlink not restored: {exc.strerror}")
            return False
        self._finish_by_name(entry, folder, name)
        return True

    def node(self, entry: tree.Entry) -> bool:
        """A fifo, socket or device (devices only as root)."""
        if entry.type in (EntryType.CHARDEV, EntryType.BLOCKDEV) and not self._as_root:
            self._warn(entry.path, "device not restored: that takes root")
            return False
        where = self._room(entry, replace=True)
        if where is None:
            return False
        folder, name = where
        try:
            os.mknod(name, 0o600 | _NODE_TYPES[entry.type], entry.rdev, dir_fd=folder)
        except OSError as exc:
            self._warn(entry.path, f"{entry.type} not restored: {exc.strerror}")
            return False
        self._finish_by_name(entry, folder, name)
        return True

    # -- folders ------------------------------------------------------------------------------

    def _reachable(self, path: bytes) -> bool:
        """False for what lies in a folder that could not be entered (warned about once)."""
        _refuse_unsafe(path)
        blocked = self._blocked
        if blocked is None:
            return True
        if path == blocked or path.startswith(blocked + b"/"):
            if path == blocked:
                self._blocked = None
            return False
        self._blocked = None
        return True

    def _descend(self, names: list[bytes]) -> int | None:
        """The descriptor of the folder ``names`` below the target, entering (creating) it."""
        stack = self._stack
        keep = 0
        while keep < min(len(stack), len(names)) and stack[keep].name == names[keep]:
            keep += 1
        while len(stack) > keep:
            os.close(stack.pop().fd)
        fd = stack[-1].fd if stack else self._root
        for depth in range(keep, len(names)):
            folder = self._enter(fd, names[depth], b"/".join(names[: depth + 1]))
            if folder is None:
                return None
            stack.append(folder)
            fd = folder.fd
        return fd

    def _enter(self, parent: int, name: bytes, path: bytes) -> _Folder | None:
        created = False
        try:
            if self._overwrite and not _is_folder(parent, name):
                _remove(parent, name)
            os.mkdir(name, 0o700, dir_fd=parent)
            created = True
        except FileExistsError:
            pass
        except OSError as exc:
            self._block(path, exc.strerror or "cannot be created")
            return None
        try:
            return _Folder(name, os.open(name, _FOLDER_FLAGS, dir_fd=parent), created)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                self._block(path, "a symlink or a file is in the way (not followed)")
            else:
                self._block(path, exc.strerror or "cannot be opened")
            return None

    def _fresh(self) -> bool:
        """Whether the folder entered last was empty when this restore began to fill it."""
        return self._stack[-1].created if self._stack else self._root_fresh

    def _block(self, path: bytes, why: str) -> None:
        self._warn(path, f"folder not restored, nor anything in it: {why}")
        self._blocked = path

    def _open_existing(self, names: list[bytes]) -> int | None:
        fd = self._root
        for name in names:
            try:
                inner = os.open(name, _FOLDER_FLAGS, dir_fd=fd)
            except OSError:
                inner = None
            if fd != self._root:
                os.close(fd)
            if inner is None:
                return None
            fd = inner
        return fd

    def _room(self, entry: tree.Entry, *, replace: bool = False) -> tuple[int, bytes] | None:
        """The folder descriptor and name for a new non-folder ``entry``, if it may be made.

        An existing name is kept (with a warning) unless ``overwrite``; a folder is never
        replaced. With ``replace`` an existing name is removed first (files are renamed over).
        """
        if not self._reachable(entry.path):
            return None
        parent, _, name = entry.path.rpartition(b"/")
        folder = self._descend(parent.split(b"/") if parent else [])
        if folder is None:
            return None
        if self._fresh():
            return folder, name  # a folder this restore made holds nothing it did not place
        try:
            existing = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return folder, name
        if not self._overwrite:
            self._warn(entry.path, "exists: not overwritten")
            return None
        if stat.S_ISDIR(existing.st_mode):
            self._warn(entry.path, "exists as a folder: not replaced")
            return None
        if replace:
            _remove(folder, name)
        return folder, name

    # -- metadata -----------------------------------------------------------------------------

    def _finish(self, entry: tree.Entry, fd: int, new: bool = False) -> None:
        """Owner, extended attributes, mode and times through an open descriptor.

        A ``new`` file, just made in a folder this restore made (mode 0700 until its own line
        comes, so never set-group-ID), is its creator's already: its owner is set only if the
        entry's differs.
        """
        with self._step(entry, "owner"):
            mine = new and (entry.uid, entry.gid) == self._identity
            if not mine and self._owner_allowed(entry):
                os.fchown(fd, entry.uid, entry.gid)
        for name, value in entry.xattrs:
            self._set_xattr(entry, fd, name, value)
        with self._step(entry, "mode"):
            os.fchmod(fd, entry.mode)
        with self._step(entry, "times"):
            os.utime(fd, ns=(entry.mtime_ns, entry.mtime_ns))

    def _finish_by_name(self, entry: tree.Entry, folder: int, name: bytes) -> None:
        """The same for a symlink or node just made (never opened: that would follow or block)."""
        with self._step(entry, "owner"):
            if self._owner_allowed(entry):
                os.chown(name, entry.uid, entry.gid, dir_fd=folder, follow_symlinks=False)
        magic = f"/proc/self/fd/{folder}/".encode() + name
        for key, value in entry.xattrs:
            self._set_xattr(entry, magic, key, value)
        if entry.type != EntryType.SYMLINK:
            with self._step(entry, "mode"):
                _chmod_node(folder, name, entry.mode)
        with self._step(entry, "times"):
            os.utime(name, ns=(entry.mtime_ns,) * 2, dir_fd=folder, follow_symlinks=False)

    @contextlib.contextmanager
    def _step(self, entry: tree.Entry, what: str) -> collections.abc.Iterator[None]:
        """One piece of metadata: if the system refuses it, a warning, and the entry stays."""
        try:
            yield
        except OSError as exc:
            self._warn(entry.path, f"{what} not restored: {exc.strerror}")

    def _owner_allowed(self, entry: tree.Entry) -> bool:
        if self._as_root:
            return True
        if not self._owner_warned and (entry.uid, entry.gid) != (os.geteuid(), os.getegid()):
            self._owner_warned = True
            self._warn(b"", "owners not restored (not running as root): files are the restorer's")
        return False

    def _set_xattr(self, entry: tree.Entry, where: int | bytes, name: str, value: bytes) -> None:
        if self._no_xattrs:
            return
        try:
            # A descriptor is the file itself; a path ends in a symlink or node: not followed.
            os.setxattr(where, name, value, follow_symlinks=isinstance(where, int))
        except OSError as exc:
            if exc.errno in _NOT_SUPPORTED and isinstance(where, int):
                self._no_xattrs = True
                self._warn(b"", "extended attributes not restored: the target does not have them")
            else:
                self._warn(entry.path, f"extended attribute {name} not restored: {exc.strerror}")

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        while self._stack:
            os.close(self._stack.pop().fd)
        if self._root >= 0:
            os.close(self._root)
            self._root = -1

    def __enter__(self) -> Placer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self.close()


def _chmod_node(folder: int, name: bytes, mode: int) -> None:
    """``chmod`` of a node just made; without ``fchmodat(AT_SYMLINK_NOFOLLOW)`` (glibc < 2.32)
    the name is followed, which is safe: ``mknod`` never makes a symlink."""
    try:
        os.chmod(name, mode, dir_fd=folder, follow_symlinks=False)
    except (NotImplementedError, ValueError):
        os.chmod(name, mode, dir_fd=folder)


def _is_folder(parent: int, name: bytes) -> bool:
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return True


def _remove(folder: int, name: bytes) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=folder)


def _write(fd: int, entry: tree.Entry, pieces: Pieces) -> None:
    """Every piece at its offset; the pieces must fill the data regions exactly."""
    expected = entry.size - sum(length for _, length in entry.holes)
    written = 0
    for offset, data in pieces:
        if offset < 0 or offset + len(data) > entry.size:
            raise errors.TreeError(f"{entry.path!r}: data past the end of the file")
        view = memoryview(data)
        while view:
            done = os.pwrite(fd, view, offset)
            view, offset = view[done:], offset + done
        written += len(data)
    if written != expected:
        raise errors.TreeError(f"{entry.path!r}: {written} bytes of data for {expected}")


def spread(
    entry: tree.Entry, chunks: collections.abc.Iterable[bytes]
) -> collections.abc.Iterator[tuple[int, memoryview]]:
    """The plaintext of a file's chunks, in order, cut into ``(offset, view)`` of its regions
    (views into the chunks: nothing is copied).

    Raises TreeError if the chunks hold more or less data than the file outside its holes.
    """
    regions = iter(entry.regions())
    offset = remaining = 0
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            if not remaining:
                region = next(regions, None)
                if region is None:
                    raise errors.TreeError(f"{entry.path!r}: its chunks hold more data than it")
                offset, remaining = region
            take = min(remaining, len(view))
            yield offset, view[:take]
            offset, remaining, view = offset + take, remaining - take, view[take:]
    if remaining or next(regions, None) is not None:
        raise errors.TreeError(f"{entry.path!r}: its chunks hold less data than it")
