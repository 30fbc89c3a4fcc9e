"""Trees (docs/format.md §10.4): round trips, the order, and every refusal of a strict reader."""

from __future__ import annotations

import base64
import contextlib
import json

import hypothesis
import pytest
from hypothesis import strategies as st

from strongroom import errors as root_errors
from strongroom.engine.volumes import errors, tree

T = tree.EntryType
ID = bytes(range(32))

# -- strategies ------------------------------------------------------------------------------

names = st.one_of(
    st.binary(min_size=1, max_size=6),
    st.text(min_size=1, max_size=6).map(lambda text: text.encode("utf-8", "surrogatepass")),
).filter(lambda name: b"/" not in name and b"\0" not in name and name not in (b".", b".."))
times = st.integers(-(1 << 63) + 1, (1 << 63) - 1)
folders = st.recursive(
    st.none(), lambda inner: st.dictionaries(names, inner, max_size=4), max_leaves=16
)


def post_order(folder: dict[bytes, object], prefix: bytes = b"") -> list[tuple[bytes, bool]]:
    out: list[tuple[bytes, bool]] = []
    for name in sorted(folder):
        path = prefix + name
        child = folder[name]
        if isinstance(child, dict):
            out += post_order(child, path + b"/")
            out.append((path, True))
        else:
            out.append((path, False))
    return out


@st.composite
def file_fields(draw: st.DrawFn) -> dict[str, object]:
    size = draw(st.integers(0, 1 << 40))
    cuts = sorted(draw(st.sets(st.integers(0, size), max_size=6))) if size else []
    holes = tuple((a, b - a) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if b > a)
    # Holes must be apart: drop any touching the previous one.
    apart: list[tuple[int, int]] = []
    for offset, length in holes:
        if not apart or offset > apart[-1][0] + apart[-1][1]:
            apart.append((offset, length))
    data = size - sum(length for _, length in apart)
    count = draw(st.integers(1, 4)) if data else 0
    chunks = b"".join(draw(st.binary(min_size=32, max_size=32)) for _ in range(count))
    return {"size": size, "holes": tuple(apart), "chunks": chunks}


@st.composite
def entry_at(draw: st.DrawFn, path: bytes, folder: bool) -> tree.Entry:
    kind = T.DIR if folder else draw(st.sampled_from([t for t in T if t != T.DIR]))
    extra: dict[str, object] = {}
    if kind == T.FILE:
        extra = draw(file_fields())
    elif kind == T.SYMLINK:
        extra["target"] = draw(st.binary(min_size=1, max_size=40).filter(lambda t: b"\0" not in t))
    elif kind in (T.CHARDEV, T.BLOCKDEV):
        extra["rdev"] = draw(st.integers(0, (1 << 64) - 1))
    xattr_names = st.text(min_size=1, max_size=12).filter(
        lambda n: "\0" not in n and not any(0xD800 <= ord(c) <= 0xDFFF for c in n)
    )
    xattrs = draw(st.dictionaries(xattr_names, st.binary(max_size=20), max_size=3))
    incremental = draw(st.booleans())
    return tree.Entry(
        path,
        kind,
        draw(st.integers(0, 0o7777)),
        draw(st.integers(0, (1 << 32) - 1)),
        draw(st.integers(0, (1 << 32) - 1)),
        draw(times),
        xattrs=tuple(sorted(xattrs.items())),
        inode=draw(st.integers(0, (1 << 64) - 1)) if incremental else None,
        dev=draw(st.integers(0, (1 << 64) - 1)) if incremental else None,
        ctime_ns=draw(times) if incremental else None,
        links=draw(st.integers(1, 9)) if incremental else None,
        **extra,  # type: ignore[arg-type]
    )


@st.composite
def trees(draw: st.DrawFn) -> list[tree.Entry]:
    layout = post_order(draw(st.dictionaries(names, folders, max_size=5)))
    entries = [draw(entry_at(path, folder)) for path, folder in layout]
    firsts: dict[int, bytes] = {}
    for i, entry in enumerate(entries):
        if entry.type != T.FILE or not draw(st.booleans()):
            continue
        group = draw(st.integers(0, 2))
        if group in firsts:
            entries[i] = tree.Entry(
                entry.path, T.FILE, entry.mode, entry.uid, entry.gid, entry.mtime_ns,
                size=entry.size, linkgroup=group, linkto=firsts[group],
            )  # fmt: skip
        else:
            firsts[group] = entry.path
            entries[i] = tree.Entry(
                entry.path, T.FILE, entry.mode, entry.uid, entry.gid, entry.mtime_ns,
                size=entry.size, chunks=entry.chunks, holes=entry.holes, linkgroup=group,
            )  # fmt: skip
    return entries


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- round trips -----------------------------------------------------------------------------


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(trees(), st.integers(0, (1 << 32) - 1), st.integers(1, 300))
def test_decode_reads_back_what_encode_wrote(
    entries: list[tree.Entry], epoch: int, piece: int
) -> None:
    data = b"".join(tree.encode(entries, epoch))
    assert list(tree.decode(pieces(data, piece), epoch=epoch)) == entries


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(trees())
def test_order_is_sorting_by_order_key(entries: list[tree.Entry]) -> None:
    paths = [entry.path for entry in entries]
    assert sorted(paths, key=tree.order_key) == paths


def test_lines_are_compact_utf8_json_with_text_or_b64_names() -> None:
    entries = [
        tree.Entry("d/\u00e9t\u00e9".encode(), T.FILE, 0o644, 0, 0, 7, size=3, chunks=ID),
        tree.Entry(b"d/\xff", T.SYMLINK, 0o777, 0, 0, 8, target=b"../\xfe"),
        tree.Entry(b"d", T.DIR, 0o2775, 1, 2, -9, inode=5, dev=6, ctime_ns=10, links=2),
    ]
    lines = list(tree.encode(entries, 3))
    assert lines[0] == b'{"format":"strongroom.io/tree/v1","epoch":3}\n'
    assert lines[-1] == b'{"end":true,"entries":3}\n'
    first = json.loads(lines[1])
    assert first["path"] == "d/\u00e9t\u00e9" and b"\\u" not in lines[1]
    assert first["mtime"] == "7" and base64.b64decode(first["chunks"]) == ID
    second = json.loads(lines[2])
    assert base64.b64decode(second["pathb64"]) == b"d/\xff"
    assert base64.b64decode(second["targetb64"]) == b"../\xfe"
    assert json.loads(lines[3]) == {
        "path": "d", "type": "dir", "mode": 0o2775, "uid": 1, "gid": 2, "mtime": "-9",
        "inode": 5, "dev": 6, "ctime": "10", "links": 2,
    }  # fmt: skip
    assert all(b" " not in line for line in lines)


def test_an_empty_tree_is_a_header_and_an_end() -> None:
    assert list(tree.decode(tree.encode([], 0))) == []


def test_regions_are_the_complement_of_holes() -> None:
    entry = tree.Entry(b"f", T.FILE, 0, 0, 0, 0, size=100, chunks=ID, holes=((0, 10), (50, 5)))
    assert entry.regions() == [(10, 40), (55, 45)]
    assert tree.data_regions(10, [(0, 10)]) == []
    assert tree.Entry(b"f", T.FILE, 0, 0, 0, 0, size=1, chunks=ID * 2).chunk_ids() == [ID, ID]


# -- the writer refuses what the reader would ------------------------------------------------


@pytest.mark.parametrize(
    "entries",
    [
        [tree.Entry(b"b", T.FIFO, 0, 0, 0, 0), tree.Entry(b"a", T.FIFO, 0, 0, 0, 0)],
        [tree.Entry(b"a/b", T.FIFO, 0, 0, 0, 0)],
        [tree.Entry(b"a", T.DIR, 0, 0, 0, 0, chunks=ID)],
        [tree.Entry(b"a", T.FILE, 0, 0, 0, 0, size=1)],
        [tree.Entry(b"/a", T.FIFO, 0, 0, 0, 0)],
        [tree.Entry(b"a", T.FIFO, 0o10000, 0, 0, 0)],
        [tree.Entry(b"a", T.DIR, 0, 0, 0, 0, xattrs=(("b", b""), ("a", b"")))],
    ],
)
def test_encode_refuses_an_invalid_tree(entries: list[tree.Entry]) -> None:
    with pytest.raises(ValueError):
        list(tree.encode(entries, 1))


def _reads_back(entry: tree.Entry) -> bool:
    try:
        return tree.from_json(tree.to_json(entry)) == entry
    except Exception:
        return False


_EDGE_VALUES: dict[str, list[object]] = {
    "path": [b"", b"/a", b"a//b", b"a/./b", b"a/..", b"a\0", b"ok", b"\xff"],
    "type": [*T, "file", "door"],
    "mode": [-1, 0, 0o7777, 0o10000, True],
    "uid": [-1, 0, (1 << 32) - 1, 1 << 32, False],
    "gid": [-1, (1 << 32) - 1, 1 << 32, 1.0],
    "mtime_ns": [-(1 << 63), -(1 << 63) + 1, (1 << 63) - 1, 1 << 63, "1"],
    "size": [-1, 0, 1, 7, 10, 11, (1 << 63) - 1, 1 << 63],
    "chunks": [b"", ID, ID[:31], ID * 2, bytearray(ID)],
    "target": [b"", b"t", b"a\0b", "t"],
    "rdev": [0, 1, -1, (1 << 64) - 1, 1 << 64],
    "linkgroup": [None, 0, -1, (1 << 63) - 1, 1 << 63],
    "linkto": [None, b"a", b"/a", b"", b"a/../b"],
    "holes": [
        (),
        ((0, 1),),
        ((0, 0),),
        ((-1, 2),),
        ((0, 2), (2, 1)),
        ((0, 2), (3, 1)),
        ((5, 5),),
        ((5, 6),),
        ((0, 10),),
        ((3, 1), (0, 1)),
    ],  # fmt: skip
    "xattrs": [
        (),
        (("a", b""),),
        (("b", b""), ("a", b"")),
        (("a", b""), ("a", b"x")),
        (("", b""),),
        (("a\0", b""),),
        (("\ud800", b""),),
        (("x" * 255, b""),),
        (("x" * 256, b""),),
        (("a", bytes(1 << 16)),),
        (("a", bytes((1 << 16) + 1)),),
    ],  # fmt: skip
    "inode": [None, 0, -1, (1 << 64) - 1, 1 << 64],
    "dev": [None, 5, 1 << 64],
    "ctime_ns": [None, 0, -(1 << 63), 1 << 63],
    "links": [None, 0, 1, (1 << 64) - 1, 1 << 64],
}
_WRONG_VALUES = {name: st.sampled_from(values) for name, values in _EDGE_VALUES.items()}


@hypothesis.settings(max_examples=1000, deadline=None)
@hypothesis.given(
    st.tuples(names, st.booleans()).flatmap(lambda found: entry_at(*found)),
    st.dictionaries(st.sampled_from(sorted(_WRONG_VALUES)), st.none(), max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({key: _WRONG_VALUES[key] for key in keys})
    ),
)
def test_the_writers_check_is_the_readers_rules(
    entry: tree.Entry, changes: dict[str, object]
) -> None:
    """encode checks entries directly, not by reading each line back: the check refuses
    exactly the entries whose line would not read back as the same entry."""
    changed = entry._replace(**changes)  # type: ignore[arg-type]
    assert (tree.entry_problem(changed) is None) == _reads_back(changed), changed


_BASES = [
    tree.Entry(b"d/f", T.FILE, 0o644, 1, 2, 3, size=10, chunks=ID),
    tree.Entry(b"d/f", T.FILE, 0o644, 1, 2, 3, size=10, linkgroup=0, linkto=b"d/e"),
    tree.Entry(b"d/f", T.FILE, 0, 0, 0, 0, size=10, chunks=ID, holes=((0, 2), (5, 1))),
    tree.Entry(b"d", T.DIR, 0o755, 0, 0, 0, inode=1, dev=2, ctime_ns=3, links=2),
    tree.Entry(b"l", T.SYMLINK, 0o777, 0, 0, 0, target=b"t"),
    tree.Entry(b"c", T.CHARDEV, 0, 0, 0, 0, rdev=5, xattrs=(("a", b"1"), ("b", b""))),
    tree.Entry(b"s", T.SOCKET, 0, 0, 0, 0),
]


def test_the_writers_check_and_the_reader_agree_on_every_single_change() -> None:
    checked = 0
    for base in _BASES:
        assert tree.entry_problem(base) is None and _reads_back(base)
        for name, values in _EDGE_VALUES.items():
            for value in values:
                changed = base._replace(**{name: value})  # type: ignore[arg-type]
                assert (tree.entry_problem(changed) is None) == _reads_back(changed), changed
                checked += 1
    assert checked > 500


def test_a_known_line_is_written_as_it_was_read() -> None:
    entries = [
        tree.Entry(b"a", T.FILE, 0o644, 0, 0, 7, size=3, chunks=ID),
        tree.Entry(b"b", T.FIFO, 0, 0, 0, 8),
    ]
    data = b"".join(tree.encode(entries, 1))
    known = list(tree.decode_known([data], epoch=1))
    assert [k.entry for k in known] == entries
    assert b"".join(tree.encode(known, 1)) == data
    out_of_order = [known[1], known[0]]
    with pytest.raises(ValueError, match="out of order"):
        list(tree.encode(out_of_order, 1))


def test_an_entry_over_the_longest_line_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree, "MAX_LINE", 200)
    entry = tree.Entry(b"f", T.FILE, 0, 0, 0, 0, size=10, chunks=ID * 10)
    with pytest.raises(errors.EntryTooLarge):
        list(tree.encode([entry], 1))


# -- the reader's refusals -------------------------------------------------------------------

HEADER = '{"format":"strongroom.io/tree/v1","epoch":1}'
FIFO = '"type":"fifo","mode":0,"uid":0,"gid":0,"mtime":"0"'


def entry_line(path: str, rest: str = FIFO) -> str:
    return f'{{"path":{json.dumps(path)},{rest}}}'


def stream(*lines: str, end: int | None = None) -> bytes:
    count = len(lines) if end is None else end
    return "\n".join([HEADER, *lines, f'{{"end":true,"entries":{count}}}', ""]).encode()


FILE = '"type":"file","mode":0,"uid":0,"gid":0,"mtime":"0","size":1'
B64_ID = base64.b64encode(ID).decode()
REFUSED = {
    "unknown format": stream().replace(b"tree/v1", b"tree/v2"),
    "header extra field": stream().replace(b'"epoch":1', b'"epoch":1,"x":1'),
    "epoch not an integer": stream().replace(b'"epoch":1', b'"epoch":"1"'),
    "unknown type": stream(entry_line("a", FIFO.replace("fifo", "door"))),
    "missing field": stream(entry_line("a", FIFO.replace(',"gid":0', ""))),
    "extra field": stream(entry_line("a", FIFO + ',"colour":1')),
    "field of another type": stream(entry_line("a", FIFO + ',"rdev":1')),
    "mode as a string": stream(entry_line("a", FIFO.replace('"mode":0', '"mode":"0"'))),
    "mode as a boolean": stream(entry_line("a", FIFO.replace('"mode":0', '"mode":false'))),
    "mode as a float": stream(entry_line("a", FIFO.replace('"mode":0', '"mode":0.0'))),
    "mode with a file type": stream(entry_line("a", FIFO.replace('"mode":0', '"mode":32768'))),
    "mtime as a number": stream(entry_line("a", FIFO.replace('"mtime":"0"', '"mtime":0'))),
    "mtime with a plus": stream(entry_line("a", FIFO.replace('"mtime":"0"', '"mtime":"+1"'))),
    "uid negative": stream(entry_line("a", FIFO.replace('"uid":0', '"uid":-1'))),
    "duplicate field": stream(entry_line("a", FIFO + ',"mode":0')),
    "NaN": stream(entry_line("a", FIFO.replace('"mode":0', '"mode":NaN'))),
    "chunks of 31 bytes": stream(
        entry_line("a", FILE + f',"chunks":"{base64.b64encode(ID[:31]).decode()}"')
    ),
    "chunks not canonical b64": stream(entry_line("a", FILE + ',"chunks":"AB=="')),
    "chunks missing": stream(entry_line("a", FILE)),
    "no chunks for data": stream(entry_line("a", FILE + ',"chunks":""')),
    "chunks for no data": stream(
        entry_line("a", FILE.replace('"size":1', '"size":0') + f',"chunks":"{B64_ID}"')
    ),
    "hole past the size": stream(entry_line("a", FILE + ',"chunks":"","holes":[[0,2]]')),
    "holes overlapping": stream(
        entry_line(
            "a",
            FILE.replace('"size":1', '"size":9') + f',"chunks":"{B64_ID}","holes":[[0,2],[1,2]]',
        )
    ),
    "linkto without linkgroup": stream(entry_line("a", FILE + ',"linkto":"b"')),
    "linkto not seen before": stream(entry_line("a", FILE + ',"linkgroup":0,"linkto":"b"')),
    "two firsts in a group": stream(
        entry_line("a", FILE + f',"linkgroup":0,"chunks":"{B64_ID}"'),
        entry_line("b", FILE + f',"linkgroup":0,"chunks":"{B64_ID}"'),
    ),
    "absolute path": stream(entry_line("/a")),
    "empty path": stream(entry_line("")),
    "dot component": stream(entry_line("./a")),
    "dot-dot component": stream(entry_line("../x")),
    "empty component": stream(entry_line("a//b"), entry_line("a", FIFO.replace("fifo", "dir"))),
    "trailing slash": stream(entry_line("a/")),
    "NUL in path": stream(entry_line("a\0b")),
    "lone surrogate in path": stream('{"path":"\\ud800",' + FIFO + "}"),
    "pathb64 of UTF-8": stream('{"pathb64":"YQ==",' + FIFO + "}"),
    "both path and pathb64": stream('{"path":"a","pathb64":"/w==",' + FIFO + "}"),
    "empty symlink target": stream(
        entry_line("a", FIFO.replace("fifo", "symlink") + ',"target":""')
    ),
    "siblings out of order": stream(entry_line("b"), entry_line("a")),
    "the same path twice": stream(entry_line("a"), entry_line("a")),
    "folder before its entries": stream(
        entry_line("a", FIFO.replace("fifo", "dir")), entry_line("a/b")
    ),
    "folder without its line": stream(entry_line("a/b"), entry_line("c")),
    "last folder without its line": stream(entry_line("a/b")),
    "a fifo with entries": stream(entry_line("a/b"), entry_line("a")),
    "end count too high": stream(entry_line("a"), end=2),
    "end count too low": stream(entry_line("a"), end=0),
    "end not true": stream().replace(b'"end":true', b'"end":1'),
    "end extra field": stream().replace(b'"entries":0', b'"entries":0,"x":0'),
    "no end line": stream(entry_line("a")).rsplit(b"\n", 2)[0] + b"\n",
    "no newline at the end": stream().rstrip(b"\n"),
    "a line after the end": stream() + b"{}\n",
    "bytes after the end": stream() + b" ",
    "an empty line": stream().replace(b"\n", b"\n\n", 1),
    "not UTF-8": stream(entry_line("a")).replace(b'"a"', b'"\xff"'),
    "not an object": stream("[1]"),
    "empty": b"",
    "deep nesting": stream(entry_line("a", FIFO + ',"x":' + "[" * 100000 + "]" * 100000)),
    "xattrs empty": stream(entry_line("a", FIFO + ',"xattrs":{}')),
    "xattr not b64": stream(entry_line("a", FIFO + ',"xattrs":{"user.a":"?"}')),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_decode_refuses(name: str) -> None:
    with pytest.raises(errors.TreeError, match=r"^tree line \d+: ") as caught:
        list(tree.decode(pieces(REFUSED[name], 7)))
    assert caught.value.exit_code == root_errors.ExitCode.INTEGRITY


def test_decode_names_the_line() -> None:
    data = stream(entry_line("a"), entry_line("c"), entry_line("b"))
    with pytest.raises(errors.TreeError, match=r"^tree line 4: entry out of order"):
        list(tree.decode([data]))


def test_decode_refuses_another_epoch() -> None:
    with pytest.raises(errors.TreeError, match="epoch 1, not 2"):
        list(tree.decode([stream()], epoch=2))


def test_decode_refuses_a_line_over_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree, "MAX_LINE", 100)
    long_line = entry_line("a" * 120)
    with pytest.raises(errors.TreeError, match="tree line 2: longer than 100"):
        list(tree.decode(pieces(stream(long_line), 1000)))
    with pytest.raises(errors.TreeError, match="tree line 2: longer than 100"):
        list(tree.decode(pieces(stream(long_line), 3)))


# -- damage never escapes the error tree -----------------------------------------------------

SAMPLE = b"".join(
    tree.encode(
        [
            tree.Entry(b"d/f", T.FILE, 0o644, 0, 0, 1, size=99, chunks=ID, linkgroup=4,
                       holes=((0, 9),), xattrs=(("user.a", b"1"),), links=2),
            tree.Entry(b"d/l", T.SYMLINK, 0o777, 0, 0, 2, target=b"x"),
            tree.Entry(b"d/\xff", T.FILE, 0o644, 0, 0, 1, size=99, linkgroup=4, linkto=b"d/f"),
            tree.Entry(b"d", T.DIR, 0o755, 0, 0, 3, inode=1, dev=2, ctime_ns=3, links=2),
            tree.Entry(b"z", T.CHARDEV, 0o600, 0, 0, 3, rdev=259),
        ],
        5,
    )
)  # fmt: skip


def read_or_refuse(data: bytes) -> None:
    with contextlib.suppress(errors.TreeError):
        entries = list(tree.decode(pieces(data, 13)))
        # Whatever is accepted is a valid tree: it encodes, and reads back the same.
        assert list(tree.decode(tree.encode(entries, 5))) == entries


@hypothesis.settings(max_examples=500, deadline=None)
@hypothesis.given(st.integers(0, len(SAMPLE) - 1), st.integers(0, 255))
def test_a_damaged_byte_is_read_or_refused(position: int, value: int) -> None:
    damaged = bytearray(SAMPLE)
    damaged[position] = value
    read_or_refuse(bytes(damaged))


def test_every_truncation_is_refused() -> None:
    for cut in range(len(SAMPLE)):
        with pytest.raises(errors.TreeError):
            list(tree.decode([SAMPLE[:cut]]))


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(st.binary(max_size=400))
def test_random_lines_are_refused_or_read(rest: bytes) -> None:
    read_or_refuse(HEADER.encode() + b"\n" + rest)
