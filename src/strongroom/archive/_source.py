"""A pull-based byte reader over an iterable of chunks, for the streaming parsers."""

from __future__ import annotations

import collections.abc

from strongroom.archive import errors


class Source:
    """Reads exact byte counts from chunks of any size, holding at most one chunk plus a read.

    ``what`` names the stream in error messages ("zstd stream", "tar stream").
    """

    def __init__(self, chunks: collections.abc.Iterable[bytes], what: str) -> None:
        self._chunks = iter(chunks)
        self._buf = b""
        self._pos = 0
        self._offset = 0
        self._what = what

    @property
    def offset(self) -> int:
        """Bytes consumed so far."""
        return self._offset

    def _fill(self) -> bool:
        """Replace an exhausted buffer with the next non-empty chunk; False at the end."""
        for chunk in self._chunks:
            if chunk:
                self._buf = bytes(chunk)
                self._pos = 0
                return True
        return False

    def at_end(self) -> bool:
        """Whether every byte has been consumed."""
        return self._pos >= len(self._buf) and not self._fill()

    def read(self, size: int) -> bytes:
        """Exactly ``size`` bytes; ArchiveFormatError if the stream ends first."""
        end = self._pos + size
        if end <= len(self._buf):
            data = self._buf[self._pos : end]
            self._pos = end
            self._offset += size
            return data
        parts = [self._buf[self._pos :]]
        have = len(parts[0])
        while have < size:
            if not self._fill():
                raise errors.ArchiveFormatError(
                    f"{self._what} truncated at offset {self._offset + have}"
                )
            take = min(size - have, len(self._buf))
            parts.append(self._buf[:take])
            self._pos = take
            have += take
        self._offset += size
        return b"".join(parts)

    def skip(self, size: int) -> None:
        """Discard exactly ``size`` bytes without holding them."""
        while size:
            if self._pos >= len(self._buf) and not self._fill():
                raise errors.ArchiveFormatError(f"{self._what} truncated at offset {self._offset}")
            take = min(size, len(self._buf) - self._pos)
            self._pos += take
            self._offset += take
            size -= take

    def rest(self) -> collections.abc.Iterator[bytes]:
        """The unconsumed bytes, chunk by chunk."""
        while not self.at_end():
            data = self._buf[self._pos :]
            self._offset += len(data)
            self._pos = len(self._buf)
            yield data
