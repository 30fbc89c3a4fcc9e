"""Streaming readers returned by ``Backend.get`` and the chunking used by ``put``."""

from __future__ import annotations

import io
import typing
from collections import abc

from strongroom.storage import errors

if typing.TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: Pieces in which streams are copied, so memory stays bounded whatever the object size.
CHUNK = 1024 * 1024


class _Source(typing.Protocol):
    def read(self, size: int, /) -> bytes: ...


#: Turns a library or OS exception raised while reading into a storage error.
Translate = abc.Callable[[Exception], errors.StorageError]


class ObjectReader(io.RawIOBase):
    """Exactly ``length`` bytes of one object, read on demand from ``source``.

    ``read(n)`` returns at most n bytes and b"" only once all ``length`` bytes were delivered.
    If the source ends early, :class:`ShortReadError` is raised instead of a silent b"".
    Errors from the source are translated by ``translate``. Closing closes the source.
    """

    def __init__(
        self,
        name: str,
        length: int,
        source: _Source,
        *,
        translate: Translate,
        on_close: abc.Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.length = length
        self._remaining = length
        self._source = source
        self._translate = translate
        self._on_close = on_close

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self._pull(len(view))
        view[: len(data)] = data
        return len(data)

    def read(self, size: int = -1, /) -> bytes:
        """At most ``size`` bytes (everything left if negative), as the source gave them: no
        copy through a buffer, which ``RawIOBase.read`` would make twice."""
        if size < 0:
            return self.readall()
        return self._pull(size)

    def _pull(self, size: int) -> bytes:
        wanted = min(size, self._remaining)
        if wanted == 0:
            return b""
        try:
            data = self._source.read(wanted)
        except errors.StorageError:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc
        if not data:
            done = self.length - self._remaining
            raise errors.ShortReadError(
                f"object {self.name} ended after {done} of {self.length} bytes"
            )
        if len(data) > wanted:
            data = data[:wanted]
        self._remaining -= len(data)
        return data if type(data) is bytes else bytes(data)

    def close(self) -> None:
        if not self.closed and self._on_close is not None:
            self._on_close()
        super().close()


def empty(name: str) -> ObjectReader:
    """A reader of zero bytes, for ``length == 0`` or a read starting at the end."""
    return ObjectReader(name, 0, io.BytesIO(), translate=errors.StorageError)


def read_full(source: _Source, size: int) -> bytes:
    """Up to ``size`` bytes from ``source``, fewer only at its end (sources may return less)."""
    pieces: list[bytes] = []
    total = 0
    while total < size:
        piece = source.read(size - total)
        if not piece:
            break
        pieces.append(piece)
        total += len(piece)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def fill(source: _Source, size: int) -> bytearray:
    """Like :func:`read_full`, but into one buffer, so a part costs its size once in memory."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    while filled < size:
        piece = source.read(min(size - filled, CHUNK))
        if not piece:
            break
        view[filled : filled + len(piece)] = piece
        filled += len(piece)
    view.release()
    del buffer[filled:]
    return buffer


def chunks(data: bytes | _Source, size: int = CHUNK) -> abc.Iterator[bytes | memoryview]:
    """``data`` in pieces of at most ``size`` bytes (a bytes object is sliced without copying)."""
    if isinstance(data, bytes | bytearray):
        view = memoryview(data)
        for start in range(0, len(view), size):
            yield view[start : start + size]
        return
    while piece := data.read(size):
        yield piece


def check_range(offset: int, length: int | None) -> None:
    """Reject a negative offset or length before any I/O."""
    if offset < 0 or (length is not None and length < 0):
        raise errors.StorageUsageError(f"invalid byte range: offset {offset}, length {length}")


def range_end(name: str, size: int, offset: int, length: int | None) -> int:
    """The end of the range ``offset``/``length`` in an object of ``size`` bytes.

    Raises :class:`ShortReadError` when the range reaches past the end of the object.
    """
    end = size if length is None else offset + length
    if offset > size or end > size:
        raise errors.ShortReadError(
            f"object {name} has {size} bytes: range {offset}-{end} reaches past its end"
        )
    return end
