"""A backend that keeps each object as a file under one folder (the "bucket").

Object ``a/b`` is the file ``<folder>/a/b``; folders are created on demand. A put writes a
hidden temporary file (``.tmp-*``) in the target's folder, fsyncs it, then ``os.link``-s it
to the final name: ``link`` fails with EEXIST when the name is taken, so an existing object is
never replaced, even by a concurrent writer. The temporary file is then unlinked and the folder
fsynced. Readers therefore see either no file or a complete one. Hidden files and anything
that is not a valid object name are invisible to ``list``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import stat
import tempfile
from collections import abc

from strongroom.storage import base, errors, names, streams

_TEMP_PREFIX = ".tmp-"
#: Refused, read-only, or a regular file where a folder must be: the folder cannot be used.
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR}


def _translate(exc: OSError, what: str) -> errors.StorageError:
    """A storage error for ``exc`` whose message starts with ``what``."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in _DENIED:
        return errors.StoragePermissionDenied(f"{what}: {reason}")
    if exc.errno in {errno.ETIMEDOUT, errno.EAGAIN}:
        return errors.TransientStorageError(f"{what}: {reason}")
    return errors.StorageError(f"{what}: {reason}")


@contextlib.contextmanager
def _translating(what: str) -> abc.Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise _translate(exc, what) from exc


def _fsync_dir(path: pathlib.Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemBackend:
    """Objects as files under ``root``; see the module docstring for the create-only scheme."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._root = pathlib.Path(root)

    @property
    def location(self) -> str:
        return str(self._root)

    def _path(self, name: str) -> pathlib.Path:
        return self._root / names.check(name)

    def put(self, name: str, data: base.Data) -> None:
        path = self._path(name)
        if path.exists():
            raise errors.ObjectExists(f"object {name} already exists in {self._root}")
        with _translating(f"cannot put {name} in folder {self._root}"):
            self._makedirs(path.parent)
            fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as file:
                    for piece in streams.chunks(data):
                        file.write(piece)
                    file.flush()
                    os.fsync(file.fileno())
                self._link(temp, path, name)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
            _fsync_dir(path.parent)

    def _link(self, temp: str, path: pathlib.Path, name: str) -> None:
        try:
            os.link(temp, path)
        except FileExistsError as exc:
            raise errors.ObjectExists(f"object {name} already exists in {self._root}") from exc

    def _makedirs(self, folder: pathlib.Path) -> None:
        """Create ``folder`` and its missing parents, fsyncing each parent that gained one."""
        missing: list[pathlib.Path] = []
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for each in reversed(missing):
            with contextlib.suppress(FileExistsError):
                each.mkdir()
            _fsync_dir(each.parent)

    def get(self, name: str, offset: int = 0, length: int | None = None) -> streams.ObjectReader:
        path = self._path(name)
        streams.check_range(offset, length)
        with _translating(f"cannot read {name} in folder {self._root}"):
            try:
                file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the reader
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
                raise errors.ObjectNotFound(f"object {name} not found in {self._root}") from exc
            try:
                size = os.fstat(file.fileno()).st_size
                end = streams.range_end(name, size, offset, length)
                file.seek(offset)
            except BaseException:
                file.close()
                raise
        what = f"cannot read {name} in folder {self._root}"
        return streams.ObjectReader(
            name,
            end - offset,
            file,
            translate=lambda exc: (
                _translate(exc, what)
                if isinstance(exc, OSError)
                else errors.StorageError(f"{what}: {exc}")
            ),
            on_close=file.close,
        )

    def stat(self, name: str) -> base.ObjectInfo:
        path = self._path(name)
        with _translating(f"cannot stat {name} in folder {self._root}"):
            try:
                info = path.stat()
            except (FileNotFoundError, NotADirectoryError) as exc:
                raise errors.ObjectNotFound(f"object {name} not found in {self._root}") from exc
        if not stat.S_ISREG(info.st_mode):
            raise errors.ObjectNotFound(f"object {name} not found in {self._root}")
        return base.ObjectInfo(name, info.st_size, info.st_mtime)

    def list(self, prefix: str = "", *, after: str = "") -> abc.Iterator[base.ObjectInfo]:
        names.check_prefix(prefix)
        names.check_after(after)
        start = prefix.rpartition(names.SEPARATOR)[0]
        with _translating(f"cannot list {prefix!r} in folder {self._root}"):
            yield from self._walk(start, prefix, after)

    def _walk(self, rel: str, prefix: str, after: str) -> abc.Iterator[base.ObjectInfo]:
        """Objects under folder ``rel`` in name order: a folder sorts as its name plus '/'."""
        folder = self._root / rel if rel else self._root
        try:
            with os.scandir(folder) as scan:
                entries = [e for e in scan if not e.name.startswith(".")]
        except (FileNotFoundError, NotADirectoryError):
            return
        keyed = []
        for entry in entries:
            is_dir = entry.is_dir(follow_symlinks=False)
            full = f"{rel}/{entry.name}" if rel else entry.name
            keyed.append((full + "/" if is_dir else full, entry))
        keyed.sort(key=lambda item: item[0])
        for key, entry in keyed:
            if key.endswith("/"):
                if _may_hold(key, prefix, after):
                    yield from self._walk(key[:-1], prefix, after)
            elif _matches(key, prefix, after) and entry.is_file(follow_symlinks=False):
                info = entry.stat(follow_symlinks=False)
                yield base.ObjectInfo(key, info.st_size, info.st_mtime)

    def delete(self, name: str) -> None:
        path = self._path(name)
        with _translating(f"cannot delete {name} in folder {self._root}"):
            try:
                path.unlink()
            except (FileNotFoundError, NotADirectoryError):
                return

    def purge(self, prefix: str) -> None:
        """Delete the folder ``prefix`` names with everything in it, hidden temporary files of
        interrupted puts included; then its parent folder if that is left empty."""
        names.check_prefix(prefix)
        if not prefix.endswith(names.SEPARATOR):
            raise errors.InvalidName(f"purge needs a folder prefix ending in '/': {prefix!r}")
        folder = self._root / prefix.rstrip(names.SEPARATOR)
        with _translating(f"cannot purge {prefix!r} in folder {self._root}"):
            if not folder.is_dir() or folder.is_symlink():
                return
            for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()
                else:
                    path.unlink()
            folder.rmdir()
            if folder.parent != self._root:
                with contextlib.suppress(OSError):
                    folder.parent.rmdir()  # only when left empty
            _fsync_dir(folder.parent if folder.parent.exists() else self._root)

    def clear_unfinished(self, prefix: str, before: float) -> int:
        """Unlink the hidden temporary files of puts in the folder ``prefix`` (not below it)
        last written before ``before``."""
        names.check_prefix(prefix)
        if not prefix.endswith(names.SEPARATOR):
            raise errors.InvalidName(f"a folder prefix must end in '/': {prefix!r}")
        folder = self._root / prefix.rstrip(names.SEPARATOR)
        cleared = 0
        with _translating(f"cannot clear unfinished puts in {prefix!r} in folder {self._root}"):
            try:
                with os.scandir(folder) as scan:
                    stale = [
                        e.path
                        for e in scan
                        if e.name.startswith(_TEMP_PREFIX)
                        and e.is_file(follow_symlinks=False)
                        and e.stat(follow_symlinks=False).st_mtime < before
                    ]
            except (FileNotFoundError, NotADirectoryError):
                return 0
            for path in stale:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    cleared += 1
        return cleared

    def probe(self) -> None:
        """Check that the folder exists or can be created, and that it can be written.

        Changes nothing: the folder is not created here (the first put creates it). A path
        whose nearest existing ancestor is not a folder, or an ancestor or folder that this
        process may not write (``os.access``, which also sees read-only mounts), raises
        :class:`StoragePermissionDenied`.
        """
        with _translating(f"folder {self._root} cannot be used"):
            folder = self._root
            while not folder.exists():
                folder = folder.parent
            usable = os.access(folder, os.W_OK | os.X_OK | os.R_OK, effective_ids=True)
        if not folder.is_dir():
            raise errors.StoragePermissionDenied(
                f"folder {self._root} cannot be created: {folder} is not a folder"
            )
        if not usable:
            action = "written" if folder == self._root else "created"
            raise errors.StoragePermissionDenied(f"folder {self._root} cannot be {action}")


def _matches(name: str, prefix: str, after: str) -> bool:
    return name.startswith(prefix) and name > after and names.is_valid(name)


def _may_hold(folder: str, prefix: str, after: str) -> bool:
    """Whether names under ``folder`` (ending in '/') can match ``prefix`` and exceed ``after``."""
    if not (folder.startswith(prefix) or prefix.startswith(folder)):
        return False
    return not (after > folder and not after.startswith(folder))
