"""A snapshot's tree (docs/format.md §10.4): its entries, their order, and the JSON-lines codec.

A tree is a header line, one line per entry in depth-first order (the entries of a folder
sorted by the bytes of their names, a folder's own line after them), then an end line giving
the count. :func:`encode` yields those lines; :func:`decode` reads them back from any
iterator of byte pieces, strictly: an unknown format or type, a missing, extra or mistyped
field, a bad path, an entry out of order, a ``linkto`` to anything but the first entry of its
link group, a missing end line or anything after it raise :class:`~.errors.TreeError` naming
the line. The root folder itself has no line (its path would be empty).

Field readers live in :mod:`._treejson`. Both directions check the same rules: :func:`encode`
checks each entry with :func:`entry_problem` (the reader's field rules, stated on the entry;
the tests hold it to :func:`from_json`) and keeps the same :class:`Order`, so it refuses
(ValueError) whatever :func:`decode` would. A :class:`Known` entry, read from an
authenticated tree by :func:`decode_known`, is written with its line as read.
"""

from __future__ import annotations

import base64
import collections.abc
import enum
import json
import typing

from strongroom.engine.volumes import _treejson as fields
from strongroom.engine.volumes import errors
from strongroom.engine.volumes._treejson import Invalid

FORMAT = "strongroom.io/tree/v1"
#: Bytes per chunk id in ``Entry.chunks`` (BLAKE3, §10.1).
CHUNK_ID_SIZE = 32
#: The longest line, newline included, that :func:`decode` reads (and :func:`encode` writes).
MAX_LINE = 64 << 20


class EntryType(enum.StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    FIFO = "fifo"
    CHARDEV = "chardev"
    BLOCKDEV = "blockdev"
    SOCKET = "socket"


class Entry(typing.NamedTuple):
    """One filesystem entry of a tree; fields a type does not use keep their defaults.

    ``path`` is relative, components joined by ``/``. ``mode`` holds the permission and
    special bits only (``stat.S_IMODE``). ``chunks`` (files) is the concatenation of 32-byte
    chunk ids covering the data outside ``holes``, sorted ``(offset, length)`` pairs. A file
    of a hard-link group carries ``linkgroup``; the group's first entry carries the data, the
    others name it in ``linkto`` (and have no chunks or holes). ``xattrs`` are sorted
    ``(name, value)`` pairs. ``inode``, ``dev``, ``ctime_ns`` and ``links`` serve the next
    incremental run and are never restored.

    A named tuple rather than a dataclass: a walk makes one per file, and a tuple is made in a
    quarter of the time.
    """

    path: bytes
    type: EntryType
    mode: int
    uid: int
    gid: int
    mtime_ns: int
    size: int = 0
    chunks: bytes = b""
    target: bytes = b""
    rdev: int = 0
    linkgroup: int | None = None
    linkto: bytes | None = None
    holes: tuple[tuple[int, int], ...] = ()
    xattrs: tuple[tuple[str, bytes], ...] = ()
    inode: int | None = None
    dev: int | None = None
    ctime_ns: int | None = None
    links: int | None = None

    def chunk_ids(self) -> list[bytes]:
        """The file's chunk ids, in order."""
        size = CHUNK_ID_SIZE
        return [self.chunks[i : i + size] for i in range(0, len(self.chunks), size)]

    def regions(self) -> list[tuple[int, int]]:
        """The file's data regions ``(offset, length)``: everything outside its holes."""
        return data_regions(self.size, self.holes)


def data_regions(
    size: int, holes: collections.abc.Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The complement of sorted, disjoint ``holes`` within ``[0, size)``, empty regions left out."""
    regions = []
    position = 0
    for offset, length in holes:
        if offset > position:
            regions.append((position, offset - position))
        position = offset + length
    if size > position:
        regions.append((position, size - position))
    return regions


def order_key(path: bytes) -> tuple[tuple[int, bytes], ...]:
    """A sort key giving the tree's order: by components' bytes, a folder after its contents."""
    return (*((0, name) for name in path.split(b"/")), (1, b""))


def path_problem(path: bytes) -> str | None:
    """Why ``path`` cannot be an entry's path (None if it can)."""
    if not path:
        return "is empty"
    if path.startswith(b"/"):
        return "is absolute"
    if b"\0" in path:
        return "contains a NUL byte"
    if any(name in (b"", b".", b"..") for name in path.split(b"/")):
        return "has an empty, '.' or '..' component"
    return None


class Order:
    """Checks entries arrive in tree order, every folder after its contents, links backwards.

    Memory: the previous path, and the first path of each link group seen so far.
    """

    def __init__(self) -> None:
        self._previous: bytes | None = None
        self._previous_key: tuple[tuple[int, bytes], ...] = ()
        self._groups: dict[int, bytes] = {}

    def add(self, entry: Entry) -> None:
        key = order_key(entry.path)
        previous = self._previous
        if previous is not None:
            if key <= self._previous_key:
                raise Invalid("entry out of order (or a path given twice)")
            folder = previous.rpartition(b"/")[0]
            if folder and entry.path != folder and not entry.path.startswith(folder + b"/"):
                raise Invalid("the folder of the previous entry has no line of its own")
            if previous.startswith(entry.path + b"/") and entry.type != EntryType.DIR:
                raise Invalid("an entry with entries inside it is not a dir")
        self._check_link(entry)
        self._previous, self._previous_key = entry.path, key

    def _check_link(self, entry: Entry) -> None:
        if entry.linkgroup is None:
            return
        first = self._groups.get(entry.linkgroup)
        if entry.linkto is None:
            if first is not None:
                raise Invalid("a second entry carrying data in one link group")
            self._groups[entry.linkgroup] = entry.path
        elif entry.linkto != first:
            raise Invalid("linkto does not name the first entry of its link group before it")

    def finish(self) -> None:
        if self._previous is not None and b"/" in self._previous:
            raise Invalid("the folder of the last entry has no line of its own")


def to_json(entry: Entry) -> fields.Document:
    """The JSON object of one entry line (fields a type does not use are left out)."""
    document: fields.Document = {}
    fields.put_name(document, "path", entry.path)
    document.update(type=str(entry.type), mode=entry.mode, uid=entry.uid, gid=entry.gid)
    document["mtime"] = str(entry.mtime_ns)
    if entry.type == EntryType.FILE:
        document["size"] = entry.size
        if entry.linkgroup is not None:
            document["linkgroup"] = entry.linkgroup
        if entry.linkto is not None:
            fields.put_name(document, "linkto", entry.linkto)
        else:
            document["chunks"] = base64.b64encode(entry.chunks).decode("ascii")
            if entry.holes:
                document["holes"] = [[offset, length] for offset, length in entry.holes]
    elif entry.type == EntryType.SYMLINK:
        fields.put_name(document, "target", entry.target)
    elif entry.type in (EntryType.CHARDEV, EntryType.BLOCKDEV):
        document["rdev"] = entry.rdev
    if entry.xattrs:
        document["xattrs"] = {
            name: base64.b64encode(value).decode("ascii") for name, value in entry.xattrs
        }
    for key, number in (("inode", entry.inode), ("dev", entry.dev)):
        if number is not None:
            document[key] = number
    if entry.ctime_ns is not None:
        document["ctime"] = str(entry.ctime_ns)
    if entry.links is not None:
        document["links"] = entry.links
    return document


def _checked_path(document: fields.Document, key: str) -> bytes:
    path = fields.take_name(document, key)
    problem = path_problem(path)
    if problem is not None:
        raise Invalid(f"field {key!r} {problem}")
    return path


_FileFields = tuple[int, bytes, int | None, bytes | None, tuple[tuple[int, int], ...]]


def _file_fields(document: fields.Document) -> _FileFields:
    """size, chunks, linkgroup, linkto, holes of a file line."""
    size = fields.take_int(document, "size", 0, fields.I64)
    linkgroup = fields.take_optional_int(document, "linkgroup", 0, fields.I64)
    if "linkto" in document or "linktob64" in document:
        if linkgroup is None:
            raise Invalid("field 'linkto' without 'linkgroup'")
        return size, b"", linkgroup, _checked_path(document, "linkto"), ()
    chunks = fields.take_bytes(document, "chunks")
    if len(chunks) % CHUNK_ID_SIZE:
        raise Invalid(f"field 'chunks' is not a whole number of {CHUNK_ID_SIZE}-byte ids")
    holes = fields.take_pairs(document, "holes", size) if "holes" in document else ()
    if (size == sum(length for _, length in holes)) != (not chunks):
        raise Invalid("field 'chunks' is empty for data, or not empty for no data")
    return size, chunks, linkgroup, None, holes


_TYPES = frozenset(str(kind) for kind in EntryType)


def from_json(document: fields.Document) -> Entry:
    """The entry of one line's object (taken apart: ``document`` is left empty)."""
    path = _checked_path(document, "path")
    kind = document.pop("type", None)
    if not isinstance(kind, str) or kind not in _TYPES:
        raise Invalid("field 'type' missing or unknown")
    type_ = EntryType(kind)
    mode = fields.take_int(document, "mode", 0, 0o7777)
    uid = fields.take_int(document, "uid", 0, fields.U32)
    gid = fields.take_int(document, "gid", 0, fields.U32)
    mtime = fields.take_time(document, "mtime")
    size, chunks, linkgroup, linkto = 0, b"", None, None
    holes: tuple[tuple[int, int], ...] = ()
    target, rdev = b"", 0
    if type_ == EntryType.FILE:
        size, chunks, linkgroup, linkto, holes = _file_fields(document)
    elif type_ == EntryType.SYMLINK:
        target = fields.take_name(document, "target")
        if not target or b"\0" in target:
            raise Invalid("field 'target' is empty or has a NUL byte")
    elif type_ in (EntryType.CHARDEV, EntryType.BLOCKDEV):
        rdev = fields.take_int(document, "rdev", 0, fields.U64)
    xattrs = fields.take_xattrs(document, "xattrs") if "xattrs" in document else ()
    inode = fields.take_optional_int(document, "inode", 0, fields.U64)
    dev = fields.take_optional_int(document, "dev", 0, fields.U64)
    ctime = fields.take_optional_time(document, "ctime")
    links = fields.take_optional_int(document, "links", 1, fields.U64)
    fields.expect_done(document)
    return Entry(
        path, type_, mode, uid, gid, mtime, size, chunks, target, rdev,
        linkgroup, linkto, holes, xattrs, inode, dev, ctime, links,
    )  # fmt: skip


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _dumps(document: fields.Document) -> bytes:
    return _ENCODER.encode(document).encode() + b"\n"


class Known(typing.NamedTuple):
    """An entry with its line as read from an authenticated tree: :func:`encode` writes the
    line again as it is (an unchanged file of an incremental run costs no encoding)."""

    entry: Entry
    line: bytes


def _int_problem(value: object, low: int, high: int) -> bool:
    return type(value) is not int or not low <= value <= high


def _file_problem(entry: Entry) -> str | None:
    if _int_problem(entry.size, 0, fields.I64):
        return "size out of range"
    if entry.linkgroup is not None and _int_problem(entry.linkgroup, 0, fields.I64):
        return "linkgroup out of range"
    if entry.linkto is not None:
        if entry.linkgroup is None:
            return "linkto without linkgroup"
        if entry.chunks or entry.holes or path_problem(entry.linkto) is not None:
            return "a link with data of its own, or a bad linkto"
        return None
    if not isinstance(entry.chunks, bytes | bytearray) or len(entry.chunks) % CHUNK_ID_SIZE:
        return "chunks is not a whole number of ids"
    end = -1
    for hole in entry.holes:
        offset, length = hole
        if _int_problem(offset, end + 1, fields.I64) or _int_problem(length, 1, fields.I64):
            return "holes not sorted, apart and non-empty"
        end = offset + length
        if end > entry.size:
            return "a hole past the size"
    if (entry.size == sum(length for _, length in entry.holes)) != (not entry.chunks):
        return "chunks empty for data, or not empty for no data"
    return None


def _type_problem(entry: Entry) -> str | None:
    """What the entry's type does not allow (fields it carries that its line would drop)."""
    kind = entry.type
    if kind == EntryType.FILE:
        problem = _file_problem(entry)
        if problem is not None:
            return problem
    elif entry.size or entry.chunks or entry.holes or entry.linkgroup is not None:
        return "file fields on an entry that is not a file"
    elif entry.linkto is not None:
        return "linkto on an entry that is not a file"
    if kind == EntryType.SYMLINK:
        if type(entry.target) is not bytes or not entry.target or b"\0" in entry.target:
            return "symlink target empty or with a NUL byte"
    elif entry.target:
        return "a target on an entry that is not a symlink"
    if kind in (EntryType.CHARDEV, EntryType.BLOCKDEV):
        if _int_problem(entry.rdev, 0, fields.U64):
            return "rdev out of range"
    elif entry.rdev != 0 or type(entry.rdev) is not int:
        return "rdev on an entry that is not a device"
    return None


def _xattrs_problem(xattrs: tuple[tuple[str, bytes], ...]) -> str | None:
    previous = None
    for name, value in xattrs:
        if type(name) is not str or type(value) is not bytes or len(value) > 1 << 16:
            return "an extended attribute that is not a name and up to 64 KiB"
        try:
            size = len(name.encode("utf-8"))
        except UnicodeEncodeError:
            return "an extended attribute name with a lone surrogate"
        if not 0 < size <= 255 or "\0" in name or (previous is not None and name <= previous):
            return "extended attribute names empty, too long, unsorted or repeated"
        previous = name
    return None


def entry_problem(entry: Entry) -> str | None:
    """Why ``entry``'s line would not read back as ``entry`` (None if it would): the rules of
    :func:`from_json`, checked on the entry itself (tests hold the two to each other)."""
    if type(entry.path) is not bytes or path_problem(entry.path) is not None:
        return "a bad path"
    if entry.type not in _KINDS:
        return "an unknown type"
    if _int_problem(entry.mode, 0, 0o7777):
        return "mode out of range"
    if _int_problem(entry.uid, 0, fields.U32) or _int_problem(entry.gid, 0, fields.U32):
        return "uid or gid out of range"
    if _int_problem(entry.mtime_ns, -fields.I64, fields.I64):
        return "mtime out of range"
    problem = _type_problem(entry) or _xattrs_problem(entry.xattrs)
    if problem is not None:
        return problem
    for value, low, high in (
        (entry.inode, 0, fields.U64),
        (entry.dev, 0, fields.U64),
        (entry.ctime_ns, -fields.I64, fields.I64),
        (entry.links, 1, fields.U64),
    ):
        if value is not None and _int_problem(value, low, high):
            return "inode, dev, ctime or links out of range"
    return None


_KINDS = frozenset(EntryType)


def encode(
    entries: collections.abc.Iterable[Entry | Known], epoch: int
) -> collections.abc.Iterator[bytes]:
    """The tree's lines, newline included: header, one per entry, end.

    Raises ValueError for entries that are not a valid tree in tree order (a bug of the
    caller), and :class:`~.errors.EntryTooLarge` for a line longer than :data:`MAX_LINE`.
    """
    if not 0 <= epoch <= fields.U32:
        raise ValueError(f"epoch {epoch} out of range")
    yield _dumps({"format": FORMAT, "epoch": epoch})
    order = Order()
    count = 0
    for item in entries:
        if isinstance(item, Known):
            entry, line = item
        else:
            entry = item
            problem = entry_problem(entry)
            if problem is not None:
                raise ValueError(f"entry {count + 1} of the tree: {problem}")
            line = _dumps(to_json(entry))
        try:
            order.add(entry)
        except Invalid as exc:
            raise ValueError(f"entry {count + 1} of the tree: {exc}") from None
        if len(line) > MAX_LINE:
            raise errors.EntryTooLarge(
                f"entry {count + 1} of the tree takes {len(line)} bytes, over {MAX_LINE}"
            )
        count += 1
        yield line
    try:
        order.finish()
    except Invalid as exc:
        raise ValueError(f"the tree's last entry: {exc}") from None
    yield _dumps({"end": True, "entries": count})


def _numbered(
    pieces: collections.abc.Iterable[bytes],
) -> collections.abc.Iterator[tuple[int, bytes]]:
    number = 0
    try:
        for line in fields.split_lines(pieces, MAX_LINE):
            number += 1
            yield number, line
    except Invalid as exc:
        raise errors.TreeError(f"tree line {number + 1}: {exc}") from None


def decode(
    pieces: collections.abc.Iterable[bytes], *, epoch: int | None = None
) -> collections.abc.Iterator[Entry]:
    """The entries of a tree read from byte pieces of any size, checked as they come.

    Entries are yielded before the end line is seen: a caller acting on them must treat a
    TreeError raised later (a truncated tree) as spoiling the whole run. With ``epoch``, a
    header naming another epoch is refused.
    """
    for known in decode_known(pieces, epoch=epoch):
        yield known.entry


def decode_known(
    pieces: collections.abc.Iterable[bytes], *, epoch: int | None = None
) -> collections.abc.Iterator[Known]:
    """:func:`decode`, each entry with its line (newline included)."""
    number, count, order = 0, 0, Order()
    lines = _numbered(pieces)
    try:
        for number, line in lines:
            document = fields.parse_line(line)
            if number == 1:
                fields.check_header(document, FORMAT, epoch)
            elif "end" in document:
                fields.check_end(document, count)
                order.finish()
                if next(lines, None) is not None:
                    number += 1
                    raise Invalid("a line after the end line")
                return
            else:
                entry = from_json(document)
                order.add(entry)
                count += 1
                yield Known(entry, line + b"\n")
        number += 1
        raise Invalid("empty: no header line" if number == 1 else "truncated: no end line")
    except Invalid as exc:
        raise errors.TreeError(f"tree line {number}: {exc}") from None
