"""Restoring trees: walk → encode → decode → place round trips, and writes outside refused."""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import pathlib
import stat
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

from strongroom import errors as root_errors
from strongroom.engine.volumes import errors, include, place, tree, walk

T = tree.EntryType
ROOT = os.geteuid() == 0
CHUNK = 64 << 10
MTIME = 1_234_567_890_123_456_789


class Warnings(list[tuple[bytes, str]]):
    def __call__(self, path: bytes, message: str) -> None:
        self.append((path, message))


def make(root: pathlib.Path, relative: bytes, data: bytes = b"", mode: int = 0o644) -> bytes:
    path = os.path.join(os.fsencode(root), relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def back_up(root: pathlib.Path) -> tuple[bytes, dict[bytes, bytes]]:
    """A tree of ``root`` and its chunks (fixed-size here: the chunker is not under test)."""
    store: dict[bytes, bytes] = {}
    the_walk = walk.walk(root, warn=Warnings())
    entries = []
    for found in the_walk:
        entry = found.entry
        if found.needs_data:
            opened = the_walk.open(found)
            assert opened is not None
            with opened:
                data = b"".join(iter(functools.partial(opened.read, 100_000), b""))
            ids = []
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                ids.append(hashlib.sha256(chunk).digest())
                store[ids[-1]] = chunk
            entry = entry._replace(chunks=b"".join(ids))
        entries.append(entry)
    return b"".join(tree.encode(entries, 7)), store


def restore(
    data: bytes,
    store: dict[bytes, bytes],
    target: pathlib.Path,
    entries: Iterator[tree.Entry] | None = None,
    **options: Any,
) -> Warnings:
    warnings = Warnings()
    with place.Placer(target, warn=warnings, **options) as placer:
        for entry in entries if entries is not None else tree.decode([data], epoch=7):
            pieces = place.spread(entry, (store[i] for i in entry.chunk_ids()))
            placer.place(entry, pieces)
    return warnings


def listing(root: pathlib.Path) -> list[tree.Entry]:
    """The walk of ``root``, without what differs between copies (inode, device, ctime)."""
    return [
        f.entry._replace(inode=None, dev=None, ctime_ns=None)
        for f in walk.walk(root, warn=Warnings())
    ]


@pytest.fixture
def source(tmp_path: pathlib.Path) -> pathlib.Path:
    """A folder with every file type, holes, hard links, odd names, modes and times."""
    root = tmp_path / "source"
    make(root, b"data.bin", os.urandom(300_000))
    make(root, b"empty")
    make(root, b"caf\xe9/\xff\xfe name", b"not UTF-8", mode=0o600)
    make(root, b"a-b", b"sorts after a/ by components")
    make(root, b"a/x", b"x")
    sparse = make(root, b"disk.img")
    with open(sparse, "r+b") as f:
        f.truncate(64 << 20)
        f.seek(8 << 20)
        f.write(os.urandom(100_000))
        f.seek(0)
        f.write(b"boot")
    hard = make(root, b"links/one", b"shared", mode=0o640)
    os.link(hard, root / "links" / "two")
    os.link(hard, root / "three")
    os.symlink("data.bin", root / "link")
    os.symlink(b"../../nowhere/\xff", root / "a" / "dangling")
    os.mkfifo(root / "pipe", 0o620)
    os.mknod(root / "socket", 0o600 | stat.S_IFSOCK)
    setuid = make(root, b"tool", b"#!/bin/sh\n")
    if ROOT:
        os.mknod(root / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chown(setuid, 1234, 5678)
        os.lchown(root / "link", 2345, 6789)
    os.chmod(setuid, 0o4755)
    os.mkdir(root / "shared", 0o2775)
    os.chmod(root / "shared", 0o2775)
    make(root, b"shared/inside", b"group")
    os.mkdir(root / "readonly")
    make(root, b"readonly/kept", b"kept")
    os.chmod(root / "readonly", 0o555)
    try:
        os.setxattr(root / "data.bin", "user.origin", b"\x00test\xff")
        os.setxattr(root / "shared", "user.team", b"ops")
    except OSError:
        pass  # the filesystem has none: the listings then agree without them
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root), topdown=False):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name), ns=(1, MTIME), follow_symlinks=False)
    return root


def test_a_restore_gives_back_what_was_walked(source: pathlib.Path, tmp_path: pathlib.Path) -> None:
    data, store = back_up(source)
    target = tmp_path / "target"
    warnings = restore(data, store, target)
    assert warnings == []
    assert listing(target) == listing(source)
    for name in (b"data.bin", b"caf\xe9/\xff\xfe name", b"disk.img", b"links/one"):
        original = pathlib.Path(os.fsdecode(os.path.join(os.fsencode(source), name)))
        copy = pathlib.Path(os.fsdecode(os.path.join(os.fsencode(target), name)))
        assert original.read_bytes() == copy.read_bytes()
    restored = os.fsencode(target)
    assert not [n for n in os.listdir(restored) if n.startswith(place.TEMPORARY_PREFIX)]


def test_sparse_files_stay_sparse(source: pathlib.Path, tmp_path: pathlib.Path) -> None:
    data, store = back_up(source)
    restore(data, store, tmp_path / "target")
    restored = os.stat(tmp_path / "target" / "disk.img")
    assert restored.st_size == 64 << 20
    assert restored.st_blocks * 512 < 1 << 20


def test_hard_links_are_links(source: pathlib.Path, tmp_path: pathlib.Path) -> None:
    data, store = back_up(source)
    target = tmp_path / "target"
    restore(data, store, target)
    one = os.stat(target / "links" / "one")
    assert one.st_nlink == 3
    assert os.stat(target / "links" / "two").st_ino == one.st_ino
    assert os.stat(target / "three").st_ino == one.st_ino


def test_modes_times_owners_and_attributes(source: pathlib.Path, tmp_path: pathlib.Path) -> None:
    data, store = back_up(source)
    target = tmp_path / "target"
    restore(data, store, target)
    assert stat.S_IMODE(os.stat(target / "shared").st_mode) == 0o2775
    assert stat.S_IMODE(os.stat(target / "tool").st_mode) == 0o4755
    assert stat.S_IMODE(os.stat(target / "readonly").st_mode) == 0o555
    assert os.stat(target / "readonly").st_mtime_ns == MTIME
    assert os.lstat(target / "link").st_mtime_ns == MTIME
    assert stat.S_ISFIFO(os.lstat(target / "pipe").st_mode)
    assert stat.S_ISSOCK(os.lstat(target / "socket").st_mode)
    if ROOT:
        assert (os.stat(target / "tool").st_uid, os.stat(target / "tool").st_gid) == (1234, 5678)
        assert os.lstat(target / "link").st_uid == 2345
        assert os.stat(target / "null").st_rdev == os.makedev(1, 3)
    if os.listxattr(source / "data.bin"):
        assert os.getxattr(target / "data.bin", "user.origin") == b"\x00test\xff"
        assert os.getxattr(target / "shared", "user.team") == b"ops"


def test_without_root_owners_and_devices_are_skipped_with_warnings(
    source: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    data, store = back_up(source)
    target = tmp_path / "target"
    warnings = restore(data, store, target, as_root=False)
    owners = [w for w in warnings if w[0] == b""]
    assert owners == [(b"", "owners not restored (not running as root): files are the restorer's")]
    if ROOT:
        assert (b"null", "device not restored: that takes root") in warnings
        assert not (target / "null").exists()
        assert os.stat(target / "tool").st_uid == os.geteuid()
    assert len(warnings) == 1 + ROOT
    assert stat.S_IMODE(os.stat(target / "tool").st_mode) == 0o4755


def test_include_restores_a_subtree_and_its_folders(
    source: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    data, store = back_up(source)
    target = tmp_path / "target"
    chosen = include.Include([b"links/", b"caf\xe9/\xff\xfe name"])
    warnings = restore(data, store, target, chosen.filter(tree.decode([data])))
    assert warnings == []
    restored = sorted(os.listdir(os.fsencode(target)))
    assert restored == [b"caf\xe9", b"links"]
    assert os.stat(target / "links" / "two").st_ino == os.stat(target / "links" / "one").st_ino
    assert os.stat(target / "links").st_mtime_ns == MTIME


def test_include_moves_the_data_of_a_link_left_out(
    source: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    data, store = back_up(source)
    target = tmp_path / "target"
    chosen = include.Include([b"three"])
    entries = list(chosen.filter(tree.decode([data])))
    assert [(e.path, e.linkto) for e in entries] == [(b"three", None)]
    list(tree.encode(entries, 7))  # still a valid tree
    assert restore(data, store, target, iter(entries)) == []
    assert (target / "three").read_bytes() == b"shared"


def test_include_paths_are_checked() -> None:
    for bad in (b"/etc", b"../x", b"a//b", b""):
        with pytest.raises(errors.IncludeError):
            include.Include([bad])


def fifo(path: bytes) -> tree.Entry:
    return tree.Entry(path, T.FIFO, 0o644, 0, 0, 0)


def file(path: bytes, data: bytes = b"x") -> tree.Entry:
    return tree.Entry(path, T.FILE, 0o644, 0, 0, 0, size=len(data), chunks=b"\0" * 32)


@pytest.mark.parametrize("path", [b"../x", b"a/../../x", b"/tmp/x", b"a//x", b"./x", b""])
def test_paths_escaping_the_target_are_refused(tmp_path: pathlib.Path, path: bytes) -> None:
    target = tmp_path / "target"
    with place.Placer(target, warn=Warnings()) as placer:
        for entry in (fifo(path), file(path)):
            with pytest.raises(errors.TreeError) as caught:
                placer.place(entry, [(0, b"x")])
            assert caught.value.exit_code == root_errors.ExitCode.INTEGRITY
    assert sorted(os.listdir(tmp_path)) == ["target"] and os.listdir(target) == []


def test_a_crafted_tree_through_a_symlink_is_refused(tmp_path: pathlib.Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    lines = [
        b'{"format":"strongroom.io/tree/v1","epoch":7}\n',
        b'{"path":"evil","type":"symlink","mode":511,"uid":0,"gid":0,"mtime":"0",'
        + f'"target":"{outside}"}}\n'.encode(),
        b'{"path":"evil/x","type":"fifo","mode":420,"uid":0,"gid":0,"mtime":"0"}\n',
        b'{"end":true,"entries":2}\n',
    ]
    with pytest.raises(errors.TreeError, match="tree line 3: entry out of order"):
        restore(b"".join(lines), {}, tmp_path / "target")
    assert os.listdir(outside) == []


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_symlink_in_the_target_is_never_followed(tmp_path: pathlib.Path, overwrite: bool) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    os.symlink(outside, target / "a")
    warnings = Warnings()
    with place.Placer(target, warn=warnings, overwrite=overwrite) as placer:
        placer.place(file(b"a/x"), [(0, b"x")])
        placer.place(fifo(b"a/y"))
        placer.place(tree.Entry(b"a", T.DIR, 0o755, 0, 0, 0))
    assert os.listdir(outside) == []
    if overwrite:
        assert warnings == [] and sorted(os.listdir(target / "a")) == ["x", "y"]
        assert not (target / "a").is_symlink()
    else:
        assert warnings == [
            (
                b"a",
                "folder not restored, nor anything in it: "
                "a symlink or a file is in the way (not followed)",
            )
        ]
        assert (target / "a").is_symlink()


def test_existing_names_are_kept_unless_overwrite(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "target"
    make(target, b"f", b"old")
    make(target, b"d/inner", b"old")
    warnings = Warnings()
    with place.Placer(target, warn=warnings) as placer:
        assert not placer.place(file(b"f", b"new"), [(0, b"new")])
    assert warnings == [(b"f", "exists: not overwritten")]
    assert (target / "f").read_bytes() == b"old"
    warnings.clear()
    with place.Placer(target, warn=warnings, overwrite=True) as placer:
        assert placer.place(file(b"f", b"new"), [(0, b"new")])
        assert not placer.place(file(b"d", b"new"), [(0, b"new")])
    assert (target / "f").read_bytes() == b"new"
    assert warnings == [(b"d", "exists as a folder: not replaced")]


@pytest.mark.parametrize("existing", [False, True])
def test_a_failing_file_leaves_nothing_behind(tmp_path: pathlib.Path, existing: bool) -> None:
    """Written in place (a folder the restore made) or under a temporary name (a folder that
    was there): either way nothing is left of a file whose data failed."""
    target = tmp_path / "target"
    if existing:
        make(target, b"d/other", b"kept")

    def failing() -> Iterator[tuple[int, bytes]]:
        yield 0, b"half"
        raise root_errors.IntegrityError("a chunk failed its id")

    with place.Placer(target, warn=Warnings()) as placer, pytest.raises(root_errors.IntegrityError):
        placer.place(file(b"d/f", b"halfhalf"), failing())
    assert os.listdir(target / "d") == (["other"] if existing else [])


def test_a_name_that_appears_in_a_new_folder_is_not_overwritten(tmp_path: pathlib.Path) -> None:
    """In a folder the restore made, files are created in place with O_EXCL: a name someone
    else put there meanwhile is kept, with a warning."""
    target = tmp_path / "target"
    warnings = Warnings()
    with place.Placer(target, warn=warnings) as placer:
        assert placer.place(file(b"d/a", b"a"), [(0, b"a")])
        (target / "d" / "b").write_bytes(b"theirs")
        assert not placer.place(file(b"d/b", b"ours"), [(0, b"ours")])
    assert (target / "d" / "b").read_bytes() == b"theirs"
    assert warnings == [(b"d/b", "exists: not overwritten")]


def test_spread_puts_chunks_into_the_data_regions() -> None:
    entry = tree.Entry(
        b"f", T.FILE, 0, 0, 0, 0, size=20, chunks=b"\0" * 64, holes=((0, 5), (10, 5))
    )
    pieces = [(offset, bytes(data)) for offset, data in place.spread(entry, [b"abc", b"defghij"])]
    assert pieces == [
        (5, b"abc"),
        (8, b"de"),
        (15, b"fghij"),
    ]
    with pytest.raises(errors.TreeError, match="more data"):
        list(place.spread(entry, [b"abcdefghijk"]))
    with pytest.raises(errors.TreeError, match="less data"):
        list(place.spread(entry, [b"abcdefghi"]))


def test_data_that_does_not_fill_the_file_is_refused(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "target"
    with place.Placer(target, warn=Warnings()) as placer:
        with pytest.raises(errors.TreeError):
            placer.place(file(b"f", b"abc"), [(0, b"ab")])
        with pytest.raises(errors.TreeError):
            placer.place(file(b"g", b"abc"), [(2, b"ab")])
    assert os.listdir(target) == []


def test_a_link_to_a_file_not_restored_is_reported(tmp_path: pathlib.Path) -> None:
    warnings = Warnings()
    linked = tree.Entry(b"b", T.FILE, 0o644, 0, 0, 0, size=1, linkgroup=3, linkto=b"a")
    with place.Placer(tmp_path / "target", warn=warnings) as placer:
        assert not placer.place(linked)
    assert warnings == [(b"b", "hard link not restored: the file it links to was not")]


def test_metadata_the_system_refuses_is_reported_and_the_file_kept(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "fchown", refuse)
    warnings = Warnings()
    target = tmp_path / "target"
    someone_else = file(b"f", b"abc")._replace(uid=os.geteuid() + 1)
    with place.Placer(target, warn=warnings, as_root=True) as placer:
        assert placer.place(someone_else, [(0, b"abc")])
    assert warnings == [(b"f", "owner not restored: Operation not permitted")]
    assert (target / "f").read_bytes() == b"abc"
    assert stat.S_IMODE(os.stat(target / "f").st_mode) == 0o644


def test_a_target_that_is_not_a_folder_is_refused(tmp_path: pathlib.Path) -> None:
    make(tmp_path, b"file")
    with pytest.raises(errors.RootError):
        place.Placer(tmp_path / "file", warn=Warnings())


names = st.binary(min_size=1, max_size=5).filter(
    lambda name: b"/" not in name and b"\0" not in name and name not in (b".", b"..")
)
layouts = st.recursive(
    st.sampled_from([T.FILE, T.SYMLINK, T.FIFO]),
    lambda inner: st.dictionaries(names, inner, max_size=4),
    max_leaves=12,
)


def entries_of(layout: dict[bytes, Any], outside: bytes, prefix: bytes = b"") -> list[tree.Entry]:
    out: list[tree.Entry] = []
    for name in sorted(layout):
        path, kind = prefix + name, layout[name]
        if isinstance(kind, dict):
            out += entries_of(kind, outside, path + b"/")
            out.append(tree.Entry(path, T.DIR, 0o755, 0, 0, 5))
        elif kind == T.FILE:
            out.append(file(path, path))
        elif kind == T.SYMLINK:
            out.append(tree.Entry(path, T.SYMLINK, 0o777, 0, 0, 5, target=outside))
        else:
            out.append(fifo(path))
    return out


@hypothesis.settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(st.dictionaries(names, layouts, max_size=5))
def test_any_tree_lands_inside_the_target(tmp_path: pathlib.Path, layout: dict[bytes, Any]) -> None:
    run = tmp_path / os.urandom(6).hex()
    outside = run / "outside"
    outside.mkdir(parents=True)
    entries = entries_of(layout, os.fsencode(outside))
    data = b"".join(tree.encode(entries, 7))  # a valid tree, symlinks to outside included
    target = run / "target"
    warnings = Warnings()
    with place.Placer(target, warn=warnings) as placer:
        for entry in tree.decode([data]):
            placer.place(entry, [(0, entry.path)] if entry.type == T.FILE else ())
    assert warnings == [] and os.listdir(outside) == []
    for entry in entries:
        status = os.lstat(os.path.join(os.fsencode(target), entry.path))
        assert stat.S_IFMT(status.st_mode) == {
            T.FILE: stat.S_IFREG, T.DIR: stat.S_IFDIR, T.SYMLINK: stat.S_IFLNK, T.FIFO: stat.S_IFIFO
        }[entry.type]  # fmt: skip


@pytest.mark.parametrize("existing", [False, True])
def test_a_new_file_already_the_restorers_is_not_chowned(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    """In a folder the restore made, a file is its creator's: chown only for another owner;
    in a folder that was there (it may be set-group-ID), always."""
    calls: list[tuple[int, int]] = []
    real = os.fchown

    def counting(fd: int, uid: int, gid: int) -> None:
        calls.append((uid, gid))
        real(fd, uid, gid)

    monkeypatch.setattr(os, "fchown", counting)
    target = tmp_path / "target"
    if existing:
        make(target, b"d/other", b"")
    mine = file(b"d/mine")._replace(uid=os.geteuid(), gid=os.getegid())
    theirs = file(b"d/theirs")._replace(uid=os.geteuid(), gid=os.getegid() + 1)
    with place.Placer(target, warn=Warnings(), as_root=True, overwrite=existing) as placer:
        assert placer.place(mine, [(0, b"x")])
        if os.geteuid() == 0:
            assert placer.place(theirs, [(0, b"x")])
    expected = [(mine.uid, mine.gid)] if existing else []
    if os.geteuid() == 0:
        expected.append((theirs.uid, theirs.gid))
        assert os.stat(target / "d" / "theirs").st_gid == theirs.gid
    assert calls == expected
