"""Strict readers of the JSON fields of a tree line (docs/format.md §1, §10.4).

Every reader takes the field out of the line's object (so that what remains at the end is an
unknown field) and raises :class:`Invalid` naming the field, never its value. Integers are
JSON integers (never booleans or floats) within the range the field allows; times are
decimal strings of nanoseconds; bytes are canonical standard base64; names are text when they
are valid UTF-8 and ``<name>b64`` otherwise, never both, and never base64 of valid UTF-8.
"""

from __future__ import annotations

import base64
import binascii
import collections.abc
import json
import re

Document = dict[str, object]

U32 = (1 << 32) - 1
U64 = (1 << 64) - 1
I64 = (1 << 63) - 1
_TIME = re.compile(r"-?(?:0|[1-9][0-9]{0,18})")


class Invalid(Exception):
    """One problem with one line; the codec adds the line number."""


def _no_duplicates(pairs: list[tuple[str, object]]) -> Document:
    document: Document = {}
    for key, value in pairs:
        if key in document:
            raise Invalid(f"field {key!r} given twice")
        document[key] = value
    return document


def _no_float(_text: str) -> object:
    raise Invalid("a number that is not an integer")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_float=_no_float, parse_constant=_no_float
)


def parse_line(line: bytes) -> Document:
    """One line's JSON object (UTF-8, no duplicate keys, no floats, NaN or Infinity)."""
    try:
        document = _DECODER.decode(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise Invalid("not UTF-8") from None
    except (ValueError, RecursionError):
        raise Invalid("not a JSON document") from None
    if not isinstance(document, dict):
        raise Invalid("not a JSON object")
    return document


def take_int(document: Document, key: str, low: int, high: int) -> int:
    if key not in document:
        raise Invalid(f"field {key!r} missing")
    value = document.pop(key)
    if type(value) is not int or not low <= value <= high:
        raise Invalid(f"field {key!r} is not an integer from {low} to {high}")
    return value


def take_optional_int(document: Document, key: str, low: int, high: int) -> int | None:
    return take_int(document, key, low, high) if key in document else None


def take_time(document: Document, key: str) -> int:
    """A time in nanoseconds since 1970, as a decimal string within a signed 64-bit range."""
    if key not in document:
        raise Invalid(f"field {key!r} missing")
    value = document.pop(key)
    if not isinstance(value, str) or not _TIME.fullmatch(value) or abs(int(value)) > I64:
        raise Invalid(f"field {key!r} is not a decimal string of nanoseconds")
    return int(value)


def take_optional_time(document: Document, key: str) -> int | None:
    return take_time(document, key) if key in document else None


def unb64(value: object, key: str) -> bytes:
    """Canonical standard base64 with padding (the encoding of the bytes, and only that)."""
    if isinstance(value, str):
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
        else:
            if base64.b64encode(data).decode("ascii") == value:
                return data
    raise Invalid(f"field {key!r} is not canonical base64")


def take_bytes(document: Document, key: str) -> bytes:
    if key not in document:
        raise Invalid(f"field {key!r} missing")
    return unb64(document.pop(key), key)


def take_name(document: Document, key: str) -> bytes:
    """``key`` as text (valid UTF-8, no surrogates) or ``<key>b64`` (not valid UTF-8)."""
    b64_key = key + "b64"
    if key in document and b64_key in document:
        raise Invalid(f"both {key!r} and {b64_key!r}")
    if b64_key in document:
        data = unb64(document.pop(b64_key), b64_key)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        raise Invalid(f"field {b64_key!r} holds valid UTF-8 (it belongs in {key!r})")
    if key not in document:
        raise Invalid(f"field {key!r} missing")
    value = document.pop(key)
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            pass
    raise Invalid(f"field {key!r} is not text without lone surrogates")


def put_name(document: Document, key: str, name: bytes) -> None:
    """The writing side of :func:`take_name`."""
    try:
        document[key] = name.decode("utf-8")
    except UnicodeDecodeError:
        document[key + "b64"] = base64.b64encode(name).decode("ascii")


def take_pairs(document: Document, key: str, size: int) -> tuple[tuple[int, int], ...]:
    """A non-empty list of ``[offset, length]`` pairs, sorted, apart, ending by ``size``."""
    value = document.pop(key)
    if not isinstance(value, list) or not value:
        raise Invalid(f"field {key!r} is not a non-empty list")
    pairs = []
    end = -1
    for item in value:
        if not (isinstance(item, list) and len(item) == 2 and all(type(n) is int for n in item)):
            raise Invalid(f"field {key!r} holds something other than [offset, length] pairs")
        offset, length = item
        if offset <= end or length < 1 or offset + length > size:
            raise Invalid(f"field {key!r} is not sorted, apart, non-empty and within the size")
        end = offset + length
        pairs.append((offset, length))
    return tuple(pairs)


def take_xattrs(document: Document, key: str) -> tuple[tuple[str, bytes], ...]:
    """A non-empty object of names (1-255 UTF-8 bytes, no NUL) to base64 values (<= 64 KiB)."""
    value = document.pop(key)
    if not isinstance(value, dict) or not value:
        raise Invalid(f"field {key!r} is not a non-empty object")
    pairs = []
    for name, data in value.items():
        if not 0 < len(name.encode("utf-8", "surrogatepass")) <= 255 or "\0" in name:
            raise Invalid(f"field {key!r} has a name that is empty, too long or has a NUL")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise Invalid(f"field {key!r} has a name with a lone surrogate") from None
        raw = unb64(data, key)
        if len(raw) > 1 << 16:
            raise Invalid(f"field {key!r} has a value over 64 KiB")
        pairs.append((name, raw))
    return tuple(sorted(pairs))


def expect_done(document: Document) -> None:
    if document:
        raise Invalid(f"unknown field(s) {', '.join(sorted(map(repr, document)))}")


def check_header(document: Document, format_: str, epoch: int | None) -> int:
    if document.get("format") != format_:
        raise Invalid("not a tree header (unknown or missing format)")
    del document["format"]
    found = take_int(document, "epoch", 0, U32)
    expect_done(document)
    if epoch is not None and found != epoch:
        raise Invalid(f"the tree is of epoch {found}, not {epoch}")
    return found


def check_end(document: Document, count: int) -> None:
    if document.pop("end") is not True:
        raise Invalid("field 'end' is not true")
    entries = take_int(document, "entries", 0, I64)
    expect_done(document)
    if entries != count:
        raise Invalid(f"the end line counts {entries} entries, the tree has {count}")


def split_lines(
    pieces: collections.abc.Iterable[bytes], max_line: int
) -> collections.abc.Iterator[bytes]:
    """Newline-terminated lines (without their newline) from byte pieces of any size.

    Raises :class:`Invalid` for a line of ``max_line`` bytes or more (newline included) and
    for bytes after the last newline; the caller's count of lines yielded, plus one, is the
    line concerned.
    """
    buffer = bytearray()
    for piece in pieces:
        start = 0
        scanned = len(buffer)
        buffer += piece
        while (newline := buffer.find(b"\n", scanned)) >= 0:
            if newline - start + 1 > max_line:
                break
            yield bytes(buffer[start:newline])
            start = scanned = newline + 1
        del buffer[:start]
        if len(buffer) >= max_line:
            raise Invalid(f"longer than {max_line} bytes")
    if buffer:
        raise Invalid("truncated: no newline at the end of the tree")
