"""The age v1 header: strict parsing and canonical encoding (C2SP age, "Header").

Grammar accepted, and nothing else::

    age-encryption.org/v1 LF
    1*32( "->" 1*(SP arg) LF body )     ; arg = 1*VCHAR; the first arg is the stanza type
    "---" SP mac LF                      ; mac = 43 characters, 32 bytes

    body = *(64 base64 characters LF) (0-63 base64 characters LF)

Base64 is the standard alphabet without padding and must be canonical (unused bits zero). The
whole header is at most 64 KiB. Every violation raises :class:`errors.IntegrityError`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from typing import Protocol

from strongroom.crypto import errors

VERSION_LINE = b"age-encryption.org/v1\n"
MAC_PREFIX = b"---"
MAX_HEADER = 64 * 1024
MAX_STANZAS = 32
COLUMNS = 64
_B64 = re.compile(rb"[A-Za-z0-9+/]*")
_ARG = re.compile(rb"[\x21-\x7e]+")


class Readable(Protocol):
    """Anything with ``read(n) -> bytes`` (a file, a socket stream, ``io.BytesIO``)."""

    def read(self, n: int, /) -> bytes: ...


@dataclasses.dataclass(frozen=True)
class Stanza:
    """One recipient stanza: its type (first argument), further arguments and raw body."""

    type: str
    args: tuple[str, ...]
    body: bytes

    def encode(self) -> bytes:
        """The stanza's header lines, body wrapped at 64 columns, ending in a short line."""
        line = b" ".join(
            [b"->", self.type.encode("ascii"), *(a.encode("ascii") for a in self.args)]
        )
        text = b64encode(self.body)
        lines = [text[i : i + COLUMNS] for i in range(0, len(text), COLUMNS)]
        if not lines or len(lines[-1]) == COLUMNS:
            lines.append(b"")
        return line + b"\n" + b"".join(part + b"\n" for part in lines)


@dataclasses.dataclass(frozen=True)
class Header:
    """A parsed header: stanzas in order, the MAC, and the exact bytes the MAC covers."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    #: Everything from the version line through ``---`` (without the space after it).
    mac_input: bytes
    #: Length of the whole header on the wire, MAC line included.
    length: int


def b64encode(data: bytes) -> bytes:
    """Standard base64 without padding."""
    return base64.b64encode(data).rstrip(b"=")


def b64decode(text: bytes, what: str) -> bytes:
    """Decode canonical unpadded base64 or raise IntegrityError naming ``what``."""
    if not _B64.fullmatch(text) or len(text) % 4 == 1:
        raise errors.IntegrityError(f"age header: {what} is not unpadded base64")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise errors.IntegrityError(f"age header: {what} is not unpadded base64") from None
    if b64encode(data) != text:
        raise errors.IntegrityError(f"age header: {what} is not canonical base64")
    return data


class LineReader:
    """Reads LF-terminated lines from ``read(n)``, never more than ``limit`` bytes in total.

    Bytes read past the header stay in :attr:`rest` for the payload.
    """

    def __init__(self, source: Readable, limit: int = MAX_HEADER) -> None:
        self._source = source
        self._limit = limit
        self.rest = b""
        self.taken = bytearray()

    def line(self) -> bytes:
        """The next line including its LF; IntegrityError on EOF or past the limit."""
        while True:
            end = self.rest.find(b"\n")
            if end >= 0:
                line, self.rest = self.rest[: end + 1], self.rest[end + 1 :]
                self.taken += line
                if len(self.taken) > self._limit:
                    break
                return line
            if len(self.taken) + len(self.rest) > self._limit:
                break
            chunk = self._source.read(4096)
            if not chunk:
                raise errors.IntegrityError("age header: truncated")
            self.rest += bytes(chunk)
        raise errors.IntegrityError(f"age header: longer than {self._limit} bytes")


def _parse_args(line: bytes) -> tuple[str, tuple[str, ...]]:
    parts = line[3:].split(b" ")
    if not line.startswith(b"-> ") or not all(_ARG.fullmatch(p) for p in parts):
        raise errors.IntegrityError("age header: malformed stanza line")
    texts = [p.decode("ascii") for p in parts]
    return texts[0], tuple(texts[1:])


def _parse_body(reader: LineReader) -> bytes:
    text = b""
    while True:
        line = reader.line()[:-1]
        if len(line) > COLUMNS:
            raise errors.IntegrityError("age header: stanza body line longer than 64 columns")
        text += line
        if len(line) < COLUMNS:
            return b64decode(text, "stanza body")


def parse(reader: LineReader) -> Header:
    """Parse one header from ``reader`` strictly (see the module docstring)."""
    if reader.line() != VERSION_LINE:
        raise errors.IntegrityError("age header: not an age v1 file")
    stanzas: list[Stanza] = []
    while True:
        start = len(reader.taken)
        line = reader.line()[:-1]
        if line.startswith(MAC_PREFIX):
            break
        if len(stanzas) == MAX_STANZAS:
            raise errors.IntegrityError(f"age header: more than {MAX_STANZAS} stanzas")
        kind, args = _parse_args(line)
        stanzas.append(Stanza(kind, args, _parse_body(reader)))
    if not stanzas:
        raise errors.IntegrityError("age header: no recipient stanza")
    if line[3:4] != b" ":
        raise errors.IntegrityError("age header: malformed MAC line")
    mac = b64decode(line[4:], "MAC")
    if len(mac) != 32:
        raise errors.IntegrityError("age header: MAC is not 32 bytes")
    mac_input = bytes(reader.taken[:start]) + MAC_PREFIX
    return Header(tuple(stanzas), mac, mac_input, len(reader.taken))


def encode_prefix(stanzas: list[Stanza] | tuple[Stanza, ...]) -> bytes:
    """The bytes the header MAC covers: version line, stanzas, and ``---``."""
    return VERSION_LINE + b"".join(s.encode() for s in stanzas) + MAC_PREFIX


def encode(stanzas: list[Stanza] | tuple[Stanza, ...], mac: bytes) -> bytes:
    """The full header with its MAC line."""
    return encode_prefix(stanzas) + b" " + b64encode(mac) + b"\n"
