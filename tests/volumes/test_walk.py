"""Walking a folder: tree order, every file type, hard links, holes, and what is left out."""

from __future__ import annotations

import errno
import os
import pathlib
import stat
from typing import Any

import pytest

from strongroom.crypto import chunker
from strongroom.engine.volumes import errors, reading, tree, walk

T = tree.EntryType


class Warnings(list[tuple[bytes, str]]):
    def __call__(self, path: bytes, message: str) -> None:
        self.append((path, message))


def make(root: pathlib.Path, relative: bytes, data: bytes = b"") -> bytes:
    path = os.path.join(os.fsencode(root), relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def walked(root: pathlib.Path | bytes, **kwargs: Any) -> tuple[list[walk.Found], Warnings]:
    warnings = Warnings()
    return list(walk.walk(root, warn=warnings, **kwargs)), warnings


def test_the_walk_is_in_tree_order_with_bytes_names(tmp_path: pathlib.Path) -> None:
    names = [b"a", b"a-b", b"a.b", b"A", b"0", b"\xff\xfe", b"caf\xc3\xa9", b"z"]
    for name in names:
        make(tmp_path, b"a/" + name)
        make(tmp_path, name + b"x/inner/" + name)
    os.mkdir(tmp_path / "empty")
    found, warnings = walked(tmp_path)
    paths = [f.entry.path for f in found]
    assert warnings == []
    assert paths == sorted(paths, key=tree.order_key)
    assert b"a/\xff\xfe" in paths and b"\xff\xfex/inner/\xff\xfe" in paths
    # A folder comes after everything inside it, right after its last entry.
    assert paths.index(b"a") == paths.index(b"a/\xff\xfe") + 1
    assert paths.index(b"a-bx") > paths.index(b"a")
    assert len(paths) == len(set(paths)) == 1 + len(names) + 3 * len(names) + 1
    # The walk's entries (chunks aside) are a tree encode accepts.
    list(tree.encode([f.entry for f in found if f.entry.type == T.DIR], 0))


def test_each_type_with_its_metadata(tmp_path: pathlib.Path) -> None:
    file = make(tmp_path, b"f", b"hello")
    if os.geteuid() == 0:
        os.chown(file, 1234, 5678)
    os.chmod(file, 0o4750)
    os.utime(file, ns=(1, 1_234_567_890_123_456_789))
    os.symlink(b"../elsewhere/\xff", tmp_path / "l")
    os.mkfifo(tmp_path / "p", 0o640)
    os.mknod(tmp_path / "s", 0o600 | stat.S_IFSOCK)
    if os.geteuid() == 0:
        os.mknod(tmp_path / "c", 0o620 | stat.S_IFCHR, os.makedev(1, 3))
    os.mkdir(tmp_path / "d", 0o2770)
    os.chmod(tmp_path / "d", 0o2770)
    found, _ = walked(tmp_path)
    by_path = {f.entry.path: f.entry for f in found}
    entry = by_path[b"f"]
    assert (entry.type, entry.mode, entry.size) == (T.FILE, 0o4750, 5)
    assert entry.mtime_ns == 1_234_567_890_123_456_789 and entry.links == 1
    assert entry.inode == os.lstat(file).st_ino and entry.ctime_ns == os.lstat(file).st_ctime_ns
    assert by_path[b"l"].type == T.SYMLINK and by_path[b"l"].target == b"../elsewhere/\xff"
    assert by_path[b"p"].type == T.FIFO and by_path[b"p"].mode == 0o640
    assert by_path[b"s"].type == T.SOCKET
    assert by_path[b"d"].type == T.DIR and by_path[b"d"].mode == 0o2770
    if os.geteuid() == 0:
        assert (entry.uid, entry.gid) == (1234, 5678)
        assert by_path[b"c"].type == T.CHARDEV and by_path[b"c"].rdev == os.makedev(1, 3)
    assert next(f for f in found if f.entry.path == b"f").source == file


def test_hard_links_carry_data_once(tmp_path: pathlib.Path) -> None:
    first = make(tmp_path, b"a/one", b"data")
    os.link(first, tmp_path / "b")
    os.link(first, tmp_path / "c")
    make(tmp_path, b"single", b"x")
    found = list(walk.walk(tmp_path, warn=Warnings()))
    entries = {f.entry.path: f for f in found}
    one, b, c = entries[b"a/one"], entries[b"b"], entries[b"c"]
    assert one.needs_data and one.entry.linkto is None and one.entry.linkgroup is not None
    assert (b.entry.linkgroup, b.entry.linkto) == (one.entry.linkgroup, b"a/one")
    assert (c.entry.linkgroup, c.entry.linkto) == (one.entry.linkgroup, b"a/one")
    assert not b.needs_data and b.entry.size == 4
    assert entries[b"single"].entry.linkgroup is None


def test_a_dropped_first_link_passes_the_data_to_the_next(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make(tmp_path, b"a", b"data")
    os.link(first, tmp_path / "b")
    os.link(first, tmp_path / "c")
    real = reading.open_nofollow

    def refuse_a(source: bytes) -> int:
        if source == first:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(source)

    monkeypatch.setattr(reading, "open_nofollow", refuse_a)
    warnings = Warnings()
    the_walk = walk.walk(tmp_path, warn=warnings)
    kept = []
    for found in the_walk:
        if found.needs_data:
            opened = the_walk.open(found)
            if opened is None:
                continue
            opened.close()
        kept.append(found.entry)
    assert warnings == [(b"a", "left out: Permission denied")]
    assert [(e.path, e.linkto) for e in kept] == [(b"b", None), (b"c", b"b")]


def test_sparse_files_give_holes_and_only_data_is_read(tmp_path: pathlib.Path) -> None:
    path = make(tmp_path, b"sparse")
    with open(path, "r+b") as f:
        f.truncate(64 << 20)
        f.seek(8 << 20)
        f.write(b"x" * 8192)
        f.seek(40 << 20)
        f.write(b"y" * 100)
    (found,), _ = walked(tmp_path)
    holes = found.entry.holes
    assert holes and holes[0][0] == 0 and holes[-1][0] + holes[-1][1] == 64 << 20
    regions = found.entry.regions()
    assert sum(length for _, length in regions) < 1 << 20
    opened = walk.walk(tmp_path, warn=Warnings()).open(found)
    assert opened is not None
    with opened:
        pieces = list(opened.pieces(piece=4096))
    assert not opened.changed
    data = dict(pieces)
    assert data[8 << 20][:1] == b"x" and b"y" * 100 in b"".join(data.values())
    assert sum(len(p) for _, p in pieces) == sum(length for _, length in regions)


def test_a_file_changed_while_read_is_reported(tmp_path: pathlib.Path) -> None:
    path = make(tmp_path, b"f", b"a" * 10000)
    the_walk = walk.walk(tmp_path, warn=(warnings := Warnings()))
    found = next(the_walk)
    opened = the_walk.open(found)
    assert opened is not None
    with opened:
        pieces = opened.pieces(piece=4096)
        next(pieces)
        with open(path, "r+b") as f:
            f.truncate(5000)
        rest = list(pieces)
    assert opened.changed
    assert b"".join(p for _, p in rest) == b"a" * (5000 - 4096) + bytes(10000 - 5000)
    assert [offset for offset, _ in rest] == [4096, 5000, 9096]
    assert warnings == [(b"f", "shrank while read: its missing end is stored as zeros")]


def test_a_file_appended_to_while_read_is_reported(tmp_path: pathlib.Path) -> None:
    path = make(tmp_path, b"f", b"a" * 100)
    the_walk = walk.walk(tmp_path, warn=(warnings := Warnings()))
    found = next(the_walk)
    opened = the_walk.open(found)
    assert opened is not None
    with opened:
        with open(path, "ab") as f:
            f.write(b"more")
        assert b"".join(p for _, p in opened.pieces()) == b"a" * 100
    assert opened.changed and warnings[0][1].startswith("changed while read")


def test_a_file_replaced_since_listed_is_left_out(tmp_path: pathlib.Path) -> None:
    make(tmp_path, b"f", b"old")
    the_walk = walk.walk(tmp_path, warn=(warnings := Warnings()))
    found = next(the_walk)
    make(tmp_path, b"new", b"new")
    os.rename(tmp_path / "new", tmp_path / "f")
    assert the_walk.open(found) is None
    assert warnings == [(b"f", "left out: replaced by another file since it was listed")]


def test_an_unreadable_folder_is_recorded_and_reported(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(tmp_path, b"secret/inside", b"x")
    make(tmp_path, b"open/inside", b"x")
    secret = os.fsencode(tmp_path / "secret")
    real = os.open

    def refuse(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if path == secret:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    found, warnings = walked(tmp_path)
    assert [f.entry.path for f in found] == [b"open/inside", b"open", b"secret"]
    assert warnings == [
        (b"secret", "folder not read, its contents are left out: Permission denied")
    ]


def test_another_filesystem_is_recorded_not_descended(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(tmp_path, b"mnt/inside", b"x")
    make(tmp_path, b"z", b"x")
    mount = os.fsencode(tmp_path / "mnt")
    real = os.lstat

    class Elsewhere:
        def __init__(self, status: os.stat_result) -> None:
            self._status = status

        def __getattr__(self, name: str) -> Any:
            return getattr(self._status, name) + (1 if name == "st_dev" else 0)

    def lstat(path: Any, *args: Any, **kwargs: Any) -> Any:
        status = real(path, *args, **kwargs)
        return Elsewhere(status) if path == mount else status

    monkeypatch.setattr(os, "lstat", lstat)
    found, warnings = walked(tmp_path)
    assert [f.entry.path for f in found] == [b"mnt", b"z"]
    assert warnings == [
        (b"mnt", "another filesystem (a mount point): recorded empty, not descended")
    ]
    monkeypatch.undo()
    found, warnings = walked(tmp_path, one_file_system=False)
    assert [f.entry.path for f in found] == [b"mnt/inside", b"mnt", b"z"]


def test_extended_attributes(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make(tmp_path, b"f", b"x")
    make(tmp_path, b"g", b"x")
    try:
        os.setxattr(path, "user.colour", b"blue\0\xff")
    except OSError as exc:
        pytest.skip(f"no user extended attributes here: {exc}")
    found, _ = walked(tmp_path)
    assert found[0].entry.xattrs == (("user.colour", b"blue\0\xff"),)
    found, _ = walked(tmp_path, xattrs=False)
    assert found[0].entry.xattrs == ()

    def unsupported(*args: Any, **kwargs: Any) -> list[str]:
        raise OSError(errno.ENOTSUP, "Operation not supported")

    monkeypatch.setattr(os, "listxattr", unsupported)
    found, warnings = walked(tmp_path)
    assert [f.entry.xattrs for f in found] == [(), ()]
    assert warnings == [(b"f", "no extended attributes on this filesystem: none recorded on it")]


def test_the_root_must_be_a_folder(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.RootError, match="not a folder"):
        walk.walk(make(tmp_path, b"f"), warn=Warnings())
    with pytest.raises(errors.RootError):
        walk.walk(tmp_path / "missing", warn=Warnings())
    make(tmp_path, b"real/x")
    os.symlink("real", tmp_path / "alias")
    found, _ = walked(tmp_path / "alias")
    assert [f.entry.path for f in found] == [b"x"]


def test_vanished_entries_are_reported(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(tmp_path, b"gone")
    make(tmp_path, b"kept")
    real = os.lstat

    def vanish(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if path.endswith(b"/gone"):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", vanish)
    found, warnings = walked(tmp_path)
    assert [f.entry.path for f in found] == [b"kept"]
    assert warnings == [(b"gone", "left out: No such file or directory")]


def test_the_chunker_reads_the_data_regions_of_a_sparse_file(tmp_path: pathlib.Path) -> None:
    path = make(tmp_path, b"sparse")
    data = os.urandom(300_000)
    with open(path, "r+b") as f:
        f.truncate(32 << 20)
        f.seek(16 << 20)
        f.write(data)
    the_walk = walk.walk(tmp_path, warn=Warnings())
    found = next(the_walk)
    opened = the_walk.open(found)
    assert opened is not None and isinstance(opened, chunker.Readable)
    cutter = chunker.Chunker(bytes(chunker.TABLE_SIZE), bytes(chunker.PRF_KEY_SIZE))
    with opened:
        chunks = [bytes(c) for c in cutter.chunks(opened)]
    regions = found.entry.regions()
    assert len(regions) == 1 and regions[0][0] <= 16 << 20
    assert b"".join(chunks) == bytes((16 << 20) - regions[0][0]) + data + bytes(
        regions[0][0] + regions[0][1] - (16 << 20) - len(data)
    )
    assert not opened.changed
