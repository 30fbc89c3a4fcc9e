"""The archive writer: round trips, frame boundaries, determinism, bounded memory."""

from __future__ import annotations

import datetime
import io
import tarfile
import tracemalloc

import hypothesis
import pytest
from hypothesis import strategies as st

from strongroom.archive import errors, layout, padding, reader, writer
from tests.archive import helpers
from tests.archive.test_layout import components, namespaces

item_lists = st.lists(
    st.builds(
        writer.Item,
        group_resource=components,
        namespace=namespaces,
        name=components,
        body=st.binary(max_size=3000) | st.text(max_size=500).map(str.encode),
        secret=st.booleans(),
    ),
    max_size=25,
    unique_by=lambda i: layout.item_path(i.group_resource, i.namespace, i.name),
)


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(item_lists, st.sampled_from([512, 4096, 1 << 20]), st.integers(1, 5000))
def test_round_trip(items: list[writer.Item], frame_size: int, cut: int) -> None:
    data = helpers.write(items, frame_size=frame_size)
    read = list(reader.iter_items(helpers.chunked(data, cut)))
    assert read[0] == reader.ReadItem(layout.VERSION_PATH, None, b"1.1.0\n")
    assert [(r.item, r.body) for r in read[1:]] == [
        (layout.ItemPath(i.group_resource, i.namespace, i.name), i.body) for i in items
    ]
    assert padding.padme(len(data)) == len(data)


@hypothesis.settings(max_examples=30, deadline=None)
@hypothesis.given(item_lists)
def test_standard_library_tarfile_reads_the_same_entries(items: list[writer.Item]) -> None:
    content = b"".join(
        c for kind, c in helpers.split_frames(helpers.write(items)) if kind == "zstd"
    )
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [layout.VERSION_PATH] + [
            layout.item_path(i.group_resource, i.namespace, i.name) for i in items
        ]
        for member, item in zip(members[1:], items, strict=True):
            assert member.isreg() and member.mode == 0o644 and member.uid == member.gid == 0
            assert member.uname == member.gname == ""
            extracted = tar.extractfile(member)
            assert extracted is not None and extracted.read() == item.body


def test_each_secret_is_a_frame_of_its_own() -> None:
    items = list(helpers.shop_items(300, every_secret=7))
    frames = helpers.split_frames(helpers.write(items, frame_size=8192))
    assert frames[-1][0] == "skippable"
    assert all(kind == "zstd" for kind, _ in frames[:-1])
    secret_paths = {
        layout.item_path(i.group_resource, i.namespace, i.name): i.body for i in items if i.secret
    }
    found: dict[str, bytes] = {}
    for _, content in frames[:-1]:
        with tarfile.open(fileobj=io.BytesIO(content + bytes(1024)), mode="r:") as tar:
            try:
                names = tar.getnames()
            except tarfile.ReadError:
                continue  # a shared frame cut inside an entry: must hold no Secret, see below
            if any(name in secret_paths for name in names):
                assert len(names) == 1, f"a Secret shares a frame with {names}"
                extracted = tar.extractfile(names[0])
                assert extracted is not None
                found[names[0]] = extracted.read()
    assert found == secret_paths
    for _, content in frames[:-1]:
        shares = sum(body in content for body in secret_paths.values())
        assert shares <= 1


def test_shared_frames_hold_at_most_frame_size_bytes() -> None:
    items = list(helpers.shop_items(200, every_secret=0))
    items.append(writer.Item("configmaps", "big", "big", helpers.configmap("big", "big", 50_000)))
    frames = helpers.split_frames(helpers.write(items, frame_size=16_384))
    sizes = [len(content) for kind, content in frames if kind == "zstd"]
    assert max(sizes) <= 16_384
    assert sum(sizes) % 512 == 0


def test_output_is_deterministic_and_stamped() -> None:
    start = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
    items = list(helpers.shop_items(50))
    one = helpers.write(items, mtime=start)
    assert one == helpers.write(items, mtime=start)
    assert one != helpers.write(items, mtime=0)
    content = b"".join(c for kind, c in helpers.split_frames(one) if kind == "zstd")
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:") as tar:
        assert {m.mtime for m in tar.getmembers()} == {int(start.timestamp())}
    with pytest.raises(ValueError):
        writer.ArchiveWriter(mtime=datetime.datetime(2026, 1, 1))


def test_stats() -> None:
    w = writer.ArchiveWriter(frame_size=1 << 20)
    data = b"".join(w.iter_bytes(helpers.shop_items(100, every_secret=10)))
    assert w.stats.items == 100
    assert w.stats.bytes_out == len(data)
    # Ten Secrets, each cutting the shared stream: eleven shared frames around them.
    assert w.stats.frames == 10 + 11
    assert w.stats.bytes_in % 512 == 0 and w.stats.bytes_in > 100 * 512


def test_empty_archive_has_the_version_only() -> None:
    read = list(reader.iter_items([helpers.write([])]))
    assert read == [reader.ReadItem(layout.VERSION_PATH, None, b"1.1.0\n")]


def test_duplicate_paths_are_refused() -> None:
    item = writer.Item("configmaps", "a", "b", b"{}")
    with pytest.raises(errors.DuplicateItemError):
        helpers.write([item, writer.Item("configmaps", "a", "b", b"{}", secret=True)])


def test_unusable_names_are_refused() -> None:
    with pytest.raises(errors.ItemNameError):
        helpers.write([writer.Item("configmaps", "a", "../b", b"{}")])


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        writer.ArchiveWriter(level=0)
    with pytest.raises(ValueError):
        writer.ArchiveWriter(frame_size=100)


def test_memory_is_bounded_while_writing_50k_items() -> None:
    w = writer.ArchiveWriter()
    tracemalloc.start()
    try:
        for _ in w.iter_bytes(helpers.shop_items(50_000)):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert w.stats.items == 50_000
    assert w.stats.bytes_in > 80 << 20
    assert peak < 16 << 20, f"peak {peak} bytes for {w.stats.bytes_in} bytes of tar"


@pytest.mark.parametrize("length", [98, 99, 100, 101, 155, 156, 255, 256, 1000])
def test_path_lengths_around_the_ustar_limit(length: int) -> None:
    prefix = "resources/configmaps/namespaces/a/"
    name = "n" * (length - len(prefix) - len(".json"))
    item = writer.Item("configmaps", "a", name, b"{}")
    assert len(layout.item_path("configmaps", "a", name)) == length
    read = list(reader.iter_items([helpers.write([item])]))
    assert read[1].item == layout.ItemPath("configmaps", "a", name)
