"""The archive reader accepts what the writer and standard tars produce, refuses the rest."""

from __future__ import annotations

import io
import pathlib
import subprocess
import tarfile
import tracemalloc

import pytest

from strongroom.archive import compress, errors, layout, reader, tarformat, writer
from tests.archive import helpers

VERSION = layout.VERSION_PATH
CM = "resources/configmaps/namespaces/a/b.json"


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def archive(*members: tuple[str, bytes] | tarfile.TarInfo, version: bool = True) -> bytes:
    def build(tar: tarfile.TarFile) -> None:
        if version:
            helpers.add_file(tar, VERSION, b"1.1.0\n")
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                helpers.add_file(tar, *member)

    return helpers.compressed_tar(build)


def read_all(data: bytes, **kwargs: int) -> list[reader.ReadItem]:
    return list(reader.iter_items(helpers.chunked(data, 1000), **kwargs))


def test_reads_a_standard_library_pax_tar() -> None:
    long_name = "resources/configmaps/namespaces/a/" + "\u00e9" * 150 + ".json"
    items = read_all(archive((CM, b"{}"), (long_name, b"[1]")))
    assert [(i.path, i.body) for i in items] == [
        (VERSION, b"1.1.0\n"),
        (CM, b"{}"),
        (long_name, b"[1]"),
    ]
    assert items[2].item == layout.ItemPath("configmaps", "a", "\u00e9" * 150)


def test_reads_a_gnu_tar_pax_archive(tmp_path: pathlib.Path) -> None:
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "version").write_bytes(b"1.1.0\n")
    target = tmp_path / "resources" / "configmaps" / "namespaces" / "a"
    target.mkdir(parents=True)
    (target / "b.json").write_bytes(b'{"a":1}')
    tar = subprocess.run(
        ["tar", "--format=pax", "-c", "-f", "-", VERSION, CM],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    ).stdout
    items = read_all(compress.compress_document(tar))
    assert [(i.path, i.body) for i in items] == [(VERSION, b"1.1.0\n"), (CM, b'{"a":1}')]


CM2 = "resources/configmaps/namespaces/a/c.json"


@pytest.mark.parametrize(
    "member",
    [
        pytest.param(special(CM2, tarfile.SYMTYPE, "/etc/passwd"), id="symlink"),
        pytest.param(special(CM2, tarfile.LNKTYPE, VERSION), id="hardlink"),
        pytest.param(special("resources/configmaps", tarfile.DIRTYPE), id="directory"),
        pytest.param(special(CM2, tarfile.CHRTYPE), id="char-device"),
        pytest.param(special(CM2, tarfile.BLKTYPE), id="block-device"),
        pytest.param(special(CM2, tarfile.FIFOTYPE), id="fifo"),
        pytest.param(special(CM2, tarfile.CONTTYPE), id="contiguous"),
    ],
)
def test_refuses_entries_that_are_not_regular_files(member: tarfile.TarInfo) -> None:
    with pytest.raises(errors.ArchiveFormatError, match="not a regular file"):
        read_all(archive((CM, b"{}"), member))


@pytest.mark.parametrize(
    "path",
    [
        "../x",
        "resources/pods/cluster/../../../x.json",
        "/etc/x.json",
        "/resources/pods/cluster/a.json",
        "./resources/pods/cluster/a.json",
        "resources/pods/v1-preferredversion/cluster/a.json",
        "resources/pods/cluster/a",
        "notes.txt",
    ],
)
def test_refuses_paths_outside_the_layout(path: str) -> None:
    with pytest.raises(errors.ArchiveFormatError, match="not an item path"):
        read_all(archive((CM, b"{}"), (path, b"{}")))


def test_refuses_duplicates() -> None:
    with pytest.raises(errors.ArchiveFormatError, match="twice"):
        read_all(archive((CM, b"{}"), (CM, b"{}")))
    with pytest.raises(errors.ArchiveFormatError, match="twice"):
        read_all(archive((VERSION, b"1.1.0\n")))


def test_refuses_oversized_entries() -> None:
    data = archive((CM, b"x" * 5000))
    assert read_all(data, max_item_size=5000)[1].body == b"x" * 5000
    with pytest.raises(errors.ArchiveLimitError):
        read_all(data, max_item_size=4999)


def test_total_output_limit() -> None:
    data = archive((CM, b"x" * 50_000))
    with pytest.raises(errors.ArchiveLimitError):
        read_all(data, max_output=20_000)


@pytest.mark.parametrize(
    ("members", "version"),
    [
        pytest.param([(CM, b"{}")], False, id="missing"),
        pytest.param([(CM, b"{}"), (VERSION, b"1.1.0\n")], False, id="not-first"),
        pytest.param([(VERSION, b"2.0.0\n")], False, id="unsupported"),
        pytest.param([(VERSION, b"1.1.0")], False, id="no-newline"),
        pytest.param([(VERSION, b"\xff\n")], False, id="binary"),
        pytest.param([], False, id="empty-tar"),
    ],
)
def test_refuses_bad_versions(members: list[tuple[str, bytes]], version: bool) -> None:
    with pytest.raises(errors.UnsupportedVersionError):
        read_all(archive(*members, version=version))


def raw_tar() -> bytes:
    return helpers.tar_bytes(lambda tar: helpers.add_file(tar, VERSION, b"1.1.0\n"))


def damaged(change: str) -> bytes:
    tar = bytearray(raw_tar())
    if change == "checksum":
        tar[0] ^= 1
    elif change == "size":
        tar[124:136] = b"0000000009x\0"
    elif change == "magic":
        tar[257:263] = b"nottar"
    elif change == "no-end":
        del tar[1024:]
    elif change == "half-end":
        tar = tar[:1024] + bytes(512) + b"\1" + bytes(511)
    elif change == "after-end":
        tar[-1] = 1
    elif change == "cut-entry":
        del tar[700:]
    return bytes(tar)


@pytest.mark.parametrize(
    "change", ["checksum", "size", "magic", "no-end", "half-end", "after-end", "cut-entry"]
)
def test_refuses_damaged_tar(change: str) -> None:
    with pytest.raises(errors.ArchiveFormatError):
        read_all(compress.compress_document(damaged(change)))


def test_refuses_gnu_long_names_and_global_headers() -> None:
    long_name = "resources/configmaps/namespaces/a/" + "x" * 120 + ".json"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        helpers.add_file(tar, VERSION, b"1.1.0\n")
        helpers.add_file(tar, long_name, b"{}")
    with pytest.raises(errors.ArchiveFormatError, match="not a regular file"):
        read_all(compress.compress_document(buf.getvalue()))
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "x"}
    ) as tar:
        helpers.add_file(tar, VERSION, b"1.1.0\n")
    with pytest.raises(errors.ArchiveFormatError, match="not a regular file"):
        read_all(compress.compress_document(buf.getvalue()))


@pytest.mark.parametrize(
    "records",
    [b"9 path=xy\n", b"x path=a\n", b"11 path=x\n", b"10 path=\xff\n", b"8 pathx\n", b"0 \n"],
)
def test_refuses_malformed_pax_records(records: bytes) -> None:
    with pytest.raises(errors.ArchiveFormatError):
        tarformat.parse_pax(records, 0)


def test_refuses_oversized_pax_header() -> None:
    header = tarformat.entry_header("x" * (tarformat.MAX_PAX + 10), 2, 0)
    body = b"{}" + tarformat.block_padding(2)
    tar = raw_tar()[:1024] + header + body + tarformat.END_OF_ARCHIVE
    with pytest.raises(errors.ArchiveFormatError, match="pax"):
        read_all(compress.compress_document(tar))


def test_stops_early_without_reading_everything() -> None:
    data = helpers.write(helpers.shop_items(20))
    first = next(reader.iter_items([data]))
    assert first.path == VERSION


def test_streams_20k_items_from_the_writer_in_bounded_memory() -> None:
    w = writer.ArchiveWriter()
    tracemalloc.start()
    try:
        count = sum(1 for _ in reader.iter_items(w.iter_bytes(helpers.shop_items(20_000))))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_001
    assert peak < 12 << 20, f"peak {peak} bytes for {w.stats.bytes_in} bytes of tar"


def pax_entry(records: bytes, name: str = CM, body: bytes = b"{}") -> bytes:
    """A tar with the version, then ``name`` preceded by a hand-made pax header."""
    pax_header = tarformat.ustar_header(b"././@PaxHeader", len(records), 0, b"x")
    header = tarformat.entry_header(name, len(body), 0)
    return (
        raw_tar()[:1024]
        + pax_header
        + records
        + tarformat.block_padding(len(records))
        + header
        + body
        + tarformat.block_padding(len(body))
        + tarformat.END_OF_ARCHIVE
    )


def test_hand_made_pax_header_is_read() -> None:
    tar = pax_entry(b"35 path=resources/x/cluster/y.json\n")
    items = read_all(compress.compress_document(tar))
    assert items[1].item == layout.ItemPath("x", None, "y")


@pytest.mark.parametrize(
    "records",
    [b"11 size=-2\n", b"11 size=+2\n", b"11 size=\xc2\xb2\n", b"22 GNU.sparse.major=1\n"],
)
def test_refuses_bad_pax_sizes_and_sparse_files(records: bytes) -> None:
    with pytest.raises(errors.ArchiveFormatError):
        read_all(compress.compress_document(pax_entry(records)))
