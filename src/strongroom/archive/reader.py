"""The streaming archive reader: padded zstd frames of a tar in, checked items out.

:func:`iter_items` decompresses and parses in one pass, never touching the disk, and accepts
only what :mod:`strongroom.archive.writer` produces: ``metadata/version`` first, naming a
supported version, then regular files at item paths (:func:`layout.parse_item_path`), each at
most ``max_item_size`` bytes and each path once, then the end-of-archive blocks followed by
nothing but zero bytes. Anything else (links, devices, directories, GNU or global headers, a
``../x`` or absolute path, a truncated stream) raises
:class:`~strongroom.archive.errors.ArchiveFormatError`.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import hashlib

from strongroom.archive import _source, compress, errors, layout, tarformat

DEFAULT_MAX_ITEM = 64 << 20


@dataclasses.dataclass(frozen=True)
class ReadItem:
    """One entry: ``item`` is None for ``metadata/version``, whose ``body`` is the version."""

    path: str
    item: layout.ItemPath | None
    body: bytes


def _check_version(path: str, body: bytes, first: bool) -> None:
    if not first:
        raise errors.UnsupportedVersionError(f"{layout.VERSION_PATH} is not the first entry")
    try:
        version = body.decode("ascii")
    except UnicodeDecodeError:
        version = ""
    if not version.endswith("\n") or version[:-1] not in layout.SUPPORTED_VERSIONS:
        raise errors.UnsupportedVersionError(
            f"{path} names unsupported archive version {body[:32]!r}"
        )


def _next_header(src: _source.Source) -> tuple[tarformat.Header, int] | None:
    """The next entry's header (after its pax header, if any), or None at end of archive."""
    pax: dict[str, str] = {}
    while True:
        offset = src.offset
        block = src.read(tarformat.BLOCK)
        if not any(block):
            if pax or any(src.read(tarformat.BLOCK)):
                raise errors.ArchiveFormatError(f"tar stream: bad end of archive at {offset}")
            return None
        header = tarformat.parse_header(block, offset)
        if header.typeflag != tarformat.PAX_TYPE:
            break
        if pax or header.size > tarformat.MAX_PAX:
            raise errors.ArchiveFormatError(f"tar stream: unacceptable pax header at {offset}")
        pax = tarformat.parse_pax(src.read(header.size), offset)
        src.skip(len(tarformat.block_padding(header.size)))
    if header.typeflag not in tarformat.REGULAR_TYPES:
        raise errors.ArchiveFormatError(
            f"tar entry {header.name!r} is not a regular file (type {header.typeflag!r})"
        )
    name = pax.get("path", header.name)
    size_text = pax.get("size", str(header.size))
    if not (size_text.isascii() and size_text.isdigit()):
        raise errors.ArchiveFormatError(f"tar entry {name!r}: bad pax size")
    if any(key.startswith("GNU.sparse") for key in pax):
        raise errors.ArchiveFormatError(f"tar entry {name!r} is a sparse file")
    size = int(size_text)
    return tarformat.Header(name=name, size=size, typeflag=header.typeflag), offset


def _read_entry(src: _source.Source, header: tarformat.Header, max_item_size: int) -> bytes:
    if header.size > max_item_size:
        raise errors.ArchiveLimitError(
            f"tar entry {header.name!r} is {header.size} bytes, more than {max_item_size}"
        )
    body = src.read(header.size)
    src.skip(len(tarformat.block_padding(header.size)))
    return body


def _check_trailer(src: _source.Source) -> None:
    for chunk in src.rest():
        if chunk.count(0) != len(chunk):
            raise errors.ArchiveFormatError("tar stream: data after the end of archive")


def iter_items(
    chunks: collections.abc.Iterable[bytes],
    *,
    max_item_size: int = DEFAULT_MAX_ITEM,
    max_output: int | None = None,
) -> collections.abc.Iterator[ReadItem]:
    """The entries of an archive in order; ``max_output`` bounds the whole decompressed tar.

    The checks on the end of the stream run when the iterator is exhausted: a consumer that
    stops early has not verified the rest.
    """
    src = _source.Source(compress.decompress_stream(chunks, max_output=max_output), "tar stream")
    seen: set[bytes] = set()
    first = True
    while (found := _next_header(src)) is not None:
        header, offset = found
        body = _read_entry(src, header, max_item_size)
        key = hashlib.blake2b(header.name.encode(), digest_size=16).digest()
        if key in seen:
            raise errors.ArchiveFormatError(f"tar entry {header.name!r} appears twice")
        seen.add(key)
        item = layout.parse_item_path(header.name)
        if header.name == layout.VERSION_PATH:
            _check_version(header.name, body, first)
        elif item is None:
            raise errors.ArchiveFormatError(f"tar entry {header.name!r} is not an item path")
        elif first:
            raise errors.UnsupportedVersionError(f"archive has no {layout.VERSION_PATH} first")
        first = False
        yield ReadItem(path=header.name, item=item, body=body)
    if first:
        raise errors.UnsupportedVersionError(f"archive has no {layout.VERSION_PATH}")
    _check_trailer(src)
