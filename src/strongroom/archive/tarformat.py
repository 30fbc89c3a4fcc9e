"""The subset of POSIX tar (ustar plus pax extended headers) the archive uses.

Writing: every entry is a regular file with mode 0644, uid/gid 0, empty user and group names
and the same mtime; a path that is not ASCII or longer than 100 bytes, or a size of 8 GiB or
more, goes in a pax extended header (``x``) named ``././@PaxHeader`` before the entry. The
output is byte-for-byte deterministic.

Reading (:func:`parse_header`, :func:`parse_pax`): ustar headers with a valid checksum, octal
numbers, regular files, pax ``x`` headers; every other type (links, devices, directories, GNU
and global headers) is refused by :mod:`strongroom.archive.reader`.
"""

from __future__ import annotations

import dataclasses

from strongroom.archive import errors

BLOCK = 512
END_OF_ARCHIVE = bytes(2 * BLOCK)
REGULAR_TYPES = frozenset({b"0", b"\0"})
PAX_TYPE = b"x"
PAX_NAME = "././@PaxHeader"
#: Longest pax header the reader accepts.
MAX_PAX = 1 << 16

_MODE = b"0000644\0"
_ZERO = b"0000000\0"
_USTAR = b"ustar\x0000"
_GNU_MAGIC = b"ustar  \0"
_NAME_LEN = 100
_SIZE_LIMIT = 8**11
_BLANK_CHECKSUM = b" " * 8
_BLANK_SUM = sum(_BLANK_CHECKSUM)
_OCTAL_DIGITS = b"01234567"


def block_padding(size: int) -> bytes:
    """Zero bytes completing ``size`` bytes of data to a whole block."""
    return bytes(-size % BLOCK)


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def ustar_header(name: bytes, size: int, mtime: int, typeflag: bytes) -> bytes:
    """One ustar header block with the archive's fixed mode, owner and checksum."""
    head = b"".join(
        (
            name.ljust(_NAME_LEN, b"\0"),
            _MODE,
            _ZERO,
            _ZERO,
            _octal(size, 12),
            _octal(mtime, 12),
        )
    )
    tail = b"".join((typeflag, bytes(_NAME_LEN), _USTAR, bytes(64), _ZERO, _ZERO, bytes(155 + 12)))
    checksum = sum(head) + sum(tail) + _BLANK_SUM
    return head + b"%06o\0 " % checksum + tail


def _pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    length = len(body) + len(str(len(body)))
    if len(str(length)) > len(str(len(body))):
        length += 1
    return str(length).encode() + body


def entry_header(path: str, size: int, mtime: int) -> bytes:
    """The header block(s) of a regular file entry: ustar, preceded by pax when needed."""
    if not 0 <= mtime < _SIZE_LIMIT:
        raise ValueError(f"mtime {mtime} out of range")
    raw = path.encode("utf-8")
    records = []
    if len(raw) > _NAME_LEN or not path.isascii():
        records.append(_pax_record("path", path))
        raw = path.encode("ascii", "replace")[:_NAME_LEN]
    if size >= _SIZE_LIMIT:
        records.append(_pax_record("size", str(size)))
    if not records:
        return ustar_header(raw, size, mtime, b"0")
    pax = b"".join(records)
    pax_header = ustar_header(PAX_NAME.encode(), len(pax), mtime, PAX_TYPE)
    header = ustar_header(raw, min(size, _SIZE_LIMIT - 1), mtime, b"0")
    return pax_header + pax + block_padding(len(pax)) + header


@dataclasses.dataclass(frozen=True)
class Header:
    """One parsed header block; ``name`` joins the ustar prefix and name fields."""

    name: str
    size: int
    typeflag: bytes


def _number(field: bytes, what: str, offset: int) -> int:
    text = field.rstrip(b"\0 ").lstrip(b" ")
    if not text:
        return 0
    if text.translate(None, _OCTAL_DIGITS):
        raise errors.ArchiveFormatError(f"tar header at offset {offset}: bad {what} field")
    return int(text, 8)


def _text(field: bytes, what: str, offset: int) -> str:
    try:
        return field.split(b"\0", 1)[0].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.ArchiveFormatError(f"tar header at offset {offset}: {what} not UTF-8") from exc


def parse_header(block: bytes, offset: int) -> Header:
    """Parse one 512-byte header block (not all zero) read at ``offset`` of the tar stream."""
    magic = block[257:265]
    if magic != _USTAR and magic != _GNU_MAGIC:
        raise errors.ArchiveFormatError(f"tar header at offset {offset}: not a ustar header")
    stored = _number(block[148:156], "checksum", offset)
    if stored != sum(block) - sum(block[148:156]) + _BLANK_SUM:
        raise errors.ArchiveFormatError(f"tar header at offset {offset}: checksum mismatch")
    name = _text(block[:100], "name", offset)
    prefix = _text(block[345:500], "prefix", offset) if magic == _USTAR else ""
    if prefix:
        name = f"{prefix}/{name}"
    size = _number(block[124:136], "size", offset)
    return Header(name=name, size=size, typeflag=block[156:157])


def parse_pax(data: bytes, offset: int) -> dict[str, str]:
    """The records of a pax extended header read at ``offset``; later keys win."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos, pos + 20)
        length_text = data[pos:space] if space > pos else b""
        if not length_text.isdigit():
            raise errors.ArchiveFormatError(f"pax header at offset {offset}: bad record length")
        end = pos + int(length_text)
        record = data[space + 1 : end]
        if end > len(data) or not record.endswith(b"\n") or b"=" not in record:
            raise errors.ArchiveFormatError(f"pax header at offset {offset}: malformed record")
        key, _, value = record[:-1].partition(b"=")
        try:
            records[key.decode("utf-8")] = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise errors.ArchiveFormatError(f"pax header at offset {offset}: not UTF-8") from exc
        pos = end
    return records
