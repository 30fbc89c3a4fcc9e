"""Snapshots of real folders, end to end on the filesystem and SeaweedFS backends."""

from __future__ import annotations

import io
import os
import pathlib
import random
import stat

import pytest

from strongroom import errors as base_errors
from strongroom.engine.volumes import backup, reading, restore, snapshots, verify
from strongroom.repository import repo
from strongroom.repository.volumes import catalog, packs, store
from strongroom.storage import base

#: A file below the smallest chunk (read whole by a worker) and one chunked by the walk.
BOTH_READ_PATHS = pytest.mark.parametrize(
    "repeat", [1000, 20_000], ids=["small, read by a worker", "chunked"]
)


def _tree(root: pathlib.Path) -> dict[str, tuple[object, ...]]:
    """What a restore must reproduce: type, mode, mtime, content or target, link identity."""
    seen: dict[str, tuple[object, ...]] = {}
    inodes: dict[int, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = pathlib.Path(folder) / name
            st = path.lstat()
            rel = str(path.relative_to(root))
            kind = stat.S_IFMT(st.st_mode)
            if stat.S_ISREG(st.st_mode):
                first = inodes.setdefault(st.st_ino, rel)
                extra: object = (path.read_bytes(), first)
            elif stat.S_ISLNK(st.st_mode):
                extra = os.readlink(path)
            else:
                extra = None
            mtime = st.st_mtime_ns if not stat.S_ISDIR(st.st_mode) else None
            seen[rel] = (kind, stat.S_IMODE(st.st_mode), mtime, extra)
    return seen


def _populate(root: pathlib.Path, seed: int = 1) -> None:
    rng = random.Random(seed)
    (root / "etc" / "app").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "etc" / "app" / "app.conf").write_text("listen = 8080\n" * 40)
    (root / "empty").write_bytes(b"")
    (root / "data" / "big.bin").write_bytes(rng.randbytes(3 << 20))
    (root / "data" / "log.txt").write_bytes(b"GET /index.html 200\n" * 100_000)
    for i in range(50):
        (root / "data" / f"small-{i:02d}").write_bytes(rng.randbytes(rng.randrange(1, 9000)))
    os.symlink("etc/app/app.conf", root / "config-link")
    os.link(root / "data" / "log.txt", root / "hardlink.txt")
    os.mkfifo(root / "fifo")
    (root / os.fsdecode(b"caf\xe9-latin1")).write_bytes(b"not utf-8 name")
    with (root / "sparse.img").open("wb") as f:
        f.seek(8 << 20)
        f.write(b"end of a sparse file")
    os.chmod(root / "etc" / "app" / "app.conf", 0o640)


def test_a_folder_round_trips_with_every_file_type(
    repository: repo.Repository, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    _populate(source)
    outcome = backup.backup(repository, str(source))
    assert outcome.phase == "Completed", outcome.warnings
    item = snapshots.find(repository, outcome.snapshot)
    assert snapshots.find(repository, "latest").id == item.id
    target = tmp_path / "target"
    done = restore.restore(repository, item, target)
    assert not done.warnings
    assert _tree(target) == _tree(source)
    assert (target / "sparse.img").stat().st_blocks * 512 < (1 << 20), "holes stay holes"
    assert (target / "hardlink.txt").stat().st_ino == (target / "data" / "log.txt").stat().st_ino


def test_an_unchanged_rerun_reads_no_file_and_stores_no_chunk(
    repository: repo.Repository, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    _populate(source)
    first = backup.backup(repository, str(source))
    second = backup.backup(repository, str(source))
    assert second.parent == first.snapshot
    assert second.stats.bytes_read == 0 and second.stats.chunks_new == 0
    assert second.stats.reused_files == first.stats.files - 1  # the hard link's second name
    (source / "data" / "small-07").write_bytes(b"changed")
    third = backup.backup(repository, str(source))
    assert third.stats.bytes_read == len(b"changed") and third.stats.chunks_new == 1
    target = tmp_path / "target"
    restore.restore(repository, snapshots.find(repository, third.snapshot), target)
    assert _tree(target) == _tree(source)


def test_identical_data_under_another_path_is_stored_once(
    repository: repo.Repository, tmp_path: pathlib.Path
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    data = random.Random(3).randbytes(2 << 20)
    (one / "a.bin").write_bytes(data)
    (two / "copy.bin").write_bytes(b"prefix" + data)  # shifted: content-defined cuts resync
    first = backup.backup(repository, str(one))
    second = backup.backup(repository, str(two))
    assert second.parent is None
    assert first.stats.chunks_new >= 4
    assert second.stats.chunks_new <= 2, "only the chunks around the shift are new"


def test_a_tampered_pack_fails_the_restore_and_writes_no_bad_file(
    repository: repo.Repository, backend: base.Backend, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "victim.bin").write_bytes(random.Random(4).randbytes(200_000))
    outcome = backup.backup(repository, str(source))
    keys = repository.volume_keys()
    loaded = catalog.load(backend, keys)
    pack_id = next(iter(loaded.pack_sizes))
    name = packs.name(pack_id)
    with backend.get(name) as reader:
        data = bytearray(store.read_all(reader))
    data[len(data) // 2] ^= 0x40
    backend.delete(name)
    backend.put(name, bytes(data))
    target = tmp_path / "target"
    with pytest.raises(base_errors.IntegrityError):
        restore.restore(repository, snapshots.find(repository, outcome.snapshot), target)
    assert not (target / "victim.bin").exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".strongroom-tmp")]


def test_a_target_that_is_not_empty_is_refused(
    repository: repo.Repository, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "f").write_text("x")
    outcome = backup.backup(repository, str(source))
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep").write_text("mine")
    item = snapshots.find(repository, outcome.snapshot)
    with pytest.raises(restore.TargetNotEmpty):
        restore.restore(repository, item, target)
    restore.restore(repository, item, target, overwrite=True)
    assert (target / "keep").read_text() == "mine" and (target / "f").read_text() == "x"


def test_snapshots_are_not_backups_and_chain_with_them(
    repository: repo.Repository, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "f").write_text("x")
    first = backup.backup(repository, str(source))
    second = backup.backup(repository, str(source))
    assert repository.backups() == []
    assert [s.id for s in repository.snapshots()] == [first.snapshot, second.snapshot]
    later = snapshots.find(repository, second.snapshot)
    assert (later.manifest.previous or {}).get("backup") == first.snapshot
    problems, _ = repository.audit(None)
    assert problems == []


def _flip_pack_byte(backend: base.Backend, pack_id: str, offset: int) -> None:
    name = packs.name(pack_id)
    with backend.get(name) as reader:
        data = bytearray(store.read_all(reader))
    data[offset] ^= 0x01
    backend.delete(name)
    backend.put(name, bytes(data))


def test_verify_finds_a_missing_pack_and_read_data_finds_a_flipped_byte(
    repository: repo.Repository, backend: base.Backend, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.bin").write_bytes(random.Random(5).randbytes(600_000))
    item = snapshots.find(repository, backup.backup(repository, str(source)).snapshot)
    assert verify.verify(repository, item) == []
    assert verify.verify(repository, item, read_data=True) == []
    keys = repository.volume_keys()
    loaded = catalog.load(backend, keys)
    first = next(e for e in snapshots.entries(item) if e.chunks).chunk_ids()[0]
    where = loaded.get(first)
    assert where is not None
    _flip_pack_byte(backend, where.pack_id, where.entry.offset + 3)
    assert verify.verify(repository, item) == [], "plain verify checks presence and sizes only"
    problems = verify.verify(repository, item, read_data=True)
    assert problems == [f"{packs.name(where.pack_id)}: blob {where.number} fails its tag"]
    backend.delete(packs.name(where.pack_id))
    problems = verify.verify(repository, item)
    assert f"{packs.name(where.pack_id)}: missing (the snapshot needs it)" in problems


def test_deleting_a_snapshot_then_collecting_frees_only_its_own_data(
    repository: repo.Repository, backend: base.Backend, tmp_path: pathlib.Path
) -> None:
    # Its own data is most of the first snapshot: however its chunks fell into the two open
    # packs, one pack is then mostly garbage (with equal halves, all chunks in one pack left
    # it just over half live, kept, and the collection rightly did nothing).
    shared = random.Random(6).randbytes(200_000)
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "shared.bin").write_bytes(shared)
    (one / "own.bin").write_bytes(random.Random(7).randbytes(800_000))
    (two / "shared.bin").write_bytes(shared)
    first = backup.backup(repository, str(one))
    second = backup.backup(repository, str(two))
    assert repository.delete_snapshot(first.snapshot) == []
    with pytest.raises(snapshots.SnapshotNotFound):
        snapshots.find(repository, first.snapshot)
    before = {i.name for i in backend.list(packs.PREFIX)}
    reports = verify.collect(repository)
    assert reports[1].deleted_packs + reports[1].repacked_packs >= 1
    assert {i.name for i in backend.list(packs.PREFIX)} != before
    target = tmp_path / "target"
    restore.restore(repository, snapshots.find(repository, second.snapshot), target)
    assert (target / "shared.bin").read_bytes() == shared
    assert (
        verify.verify(repository, snapshots.find(repository, second.snapshot), read_data=True) == []
    )
    problems, _ = repository.audit(None)
    assert problems == []


def test_collection_refuses_while_a_snapshot_cannot_be_read(
    repository: repo.Repository, backend: base.Backend, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "a").write_bytes(b"a" * 1000)
    outcome = backup.backup(repository, str(source))
    tree_name = f"b/{outcome.snapshot}/tree"
    with backend.get(tree_name) as reader:
        data = bytearray(store.read_all(reader))
    data[-5] ^= 0x01
    backend.delete(tree_name)
    backend.put(tree_name, bytes(data))
    packs_before = {i.name for i in backend.list(packs.PREFIX)}
    with pytest.raises(verify.Unreadable):
        verify.collect(repository)
    assert {i.name for i in backend.list(packs.PREFIX)} == packs_before


@BOTH_READ_PATHS
def test_a_file_that_cannot_be_read_is_a_warning_and_left_out(
    repository: repo.Repository,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    repeat: int,
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "fine").write_bytes(b"fine" * repeat)
    (source / "locked").write_bytes(b"secret" * repeat)
    real = reading.open_file

    def refuse(entry, path, warn):  # type: ignore[no-untyped-def]
        if path.endswith(b"locked"):
            warn(entry.path, "not readable: Permission denied")
            return None
        return real(entry, path, warn)

    monkeypatch.setattr(reading, "open_file", refuse)
    outcome = backup.backup(repository, str(source))
    assert outcome.phase == "PartiallyFailed"
    assert outcome.warnings == ["locked: not readable: Permission denied"]
    assert (outcome.stats.files, outcome.stats.bytes) == (1, 4 * repeat)
    target = tmp_path / "target"
    restore.restore(repository, snapshots.find(repository, outcome.snapshot), target)
    assert sorted(p.name for p in target.iterdir()) == ["fine"]
    assert (target / "fine").read_bytes() == b"fine" * repeat


def test_small_files_are_restored_with_a_few_ranged_reads(
    repository: repo.Repository, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    rng = random.Random(9)
    for i in range(300):
        (source / f"f{i:03d}").write_bytes(rng.randbytes(rng.randrange(10, 3000)))
    outcome = backup.backup(repository, str(source))
    reads: list[int] = []
    real = store.ChunkReader.fetch

    def counting(self: store.ChunkReader, where: catalog.Location) -> bytes:
        reads.append(where.entry.stored)
        return real(self, where)

    monkeypatch.setattr(store.ChunkReader, "fetch", counting)
    target = tmp_path / "target"
    restore.restore(repository, snapshots.find(repository, outcome.snapshot), target)
    assert _tree(target) == _tree(source)
    assert len(reads) <= 10, f"{len(reads)} reads for 300 files"


@BOTH_READ_PATHS
def test_a_file_that_changes_while_read_makes_the_snapshot_partially_failed(
    repository: repo.Repository,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    repeat: int,
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "growing.log").write_bytes(b"line\n" * repeat)
    real = reading.open_file

    def grow_after_open(entry, path, warn):  # type: ignore[no-untyped-def]
        opened = real(entry, path, warn)
        with open(path, "ab") as appended:
            appended.write(b"late\n")
        return opened

    monkeypatch.setattr(reading, "open_file", grow_after_open)
    outcome = backup.backup(repository, str(source))
    assert outcome.phase == "PartiallyFailed"
    assert outcome.warnings == [
        "growing.log: changed while read: the snapshot may hold a mix of old and new"
    ]
    target = tmp_path / "target"
    restore.restore(repository, snapshots.find(repository, outcome.snapshot), target)
    assert (target / "growing.log").read_bytes() == b"line\n" * repeat  # the size listed


def test_a_large_file_scanned_ahead_has_the_chunks_of_one_scan(
    repository: repo.Repository, tmp_path: pathlib.Path
) -> None:
    """A file of at least backup.AHEAD bytes is scanned in blocks by other threads; its chunks
    (and so deduplication with any other copy) are those of one scan from its start."""
    source = tmp_path / "source"
    source.mkdir()
    rng = random.Random(11)
    data = b"".join(
        rng.randbytes(300_000) if i % 2 else b"log line %d\n" % i * 20_000 for i in range(40)
    )
    assert len(data) >= backup.AHEAD
    (source / "big.img").write_bytes(data)
    outcome = backup.backup(repository, str(source))
    (entry,) = [e for e in snapshots.entries(snapshots.find(repository, outcome.snapshot))]
    keys = repository.volume_keys()
    one_scan = repository.volume_chunker().chunks(io.BytesIO(data))
    assert entry.chunks == b"".join(keys.chunk_id(bytes(c)) for c in one_scan)
    target = tmp_path / "target"
    restore.restore(repository, snapshots.find(repository, outcome.snapshot), target)
    assert (target / "big.img").read_bytes() == data
