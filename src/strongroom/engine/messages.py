"""Messages of a run kept in order and compactly: text, compressed a segment at a time.

A run may report one message per item: a restore over a namespace whose objects already
exist and differ warns once for each of them, and 50,000 such warnings held as strings cost
about 9 MB. :class:`Messages` keeps the latest as strings and every :data:`SEGMENT` of them
as one zstd frame of their JSON encoding (``"a","b",...``), which is also how the results
document (docs/format.md §8) writes them: storing them decodes a segment at a time, and a
message is encoded once. Not thread-safe: :class:`~strongroom.engine.results.Results` locks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from strongroom.archive import compress

#: Messages compressed together, once that many are kept.
SEGMENT = 256
LEVEL = 3


class Messages:
    """A list of messages that only grows (see the module docstring)."""

    def __init__(self, messages: Iterable[str] = ()) -> None:
        self._segments: list[bytes] = []
        self._recent: list[str] = []
        self._count = 0
        self.extend(messages)

    def __len__(self) -> int:
        return self._count

    def append(self, message: str) -> None:
        self._recent.append(message)
        self._count += 1
        if len(self._recent) >= SEGMENT:
            fragment = _fragment(self._recent).encode("utf-8")
            self._segments.append(compact(compress.compressor(LEVEL).compress(fragment)))
            self._recent = []

    def extend(self, messages: Iterable[str]) -> None:
        for message in messages:
            self.append(message)

    def fragments(self) -> Iterator[str]:
        """The messages as pieces of a JSON array's content, to be joined by commas."""
        for segment in list(self._segments):
            yield compress.decompress_document(segment).decode("utf-8")
        if self._recent:
            yield _fragment(self._recent)

    def json(self) -> Iterator[str]:
        """The messages as a compact JSON array (``json.dumps``), in pieces."""
        yield "["
        for index, fragment in enumerate(self.fragments()):
            yield ("," if index else "") + fragment
        yield "]"

    def __iter__(self) -> Iterator[str]:
        for fragment in self.fragments():
            yield from json.loads(f"[{fragment}]")


def compact(frame: bytes) -> bytes:
    """A copy of ``frame`` that holds only its own length: zstandard's one-shot ``compress``
    returns bytes that keep the whole worst-case buffer (the input's size and more)."""
    return bytes(memoryview(frame))


def _fragment(messages: list[str]) -> str:
    return ",".join(json.dumps(message, ensure_ascii=False) for message in messages)
