"""The age v1 payload: a 16-byte nonce, then STREAM over ChaCha20-Poly1305 in 64 KiB chunks.

``payload key = HKDF-SHA-256(file key, salt = nonce, info = "payload")``; chunk *i* is sealed
with the 12-byte nonce ``i`` (11 bytes big-endian) ``|| last`` (0x01 on the final chunk). Only
the final chunk may be shorter than 64 KiB, and it is empty only when the whole plaintext is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import aead
from cryptography.hazmat.primitives.kdf import hkdf

from strongroom.crypto import _ageheader, errors

CHUNK = 64 * 1024
TAG = 16
NONCE_SIZE = 16
_MAX_COUNTER = 1 << 88


def payload_key(file_key: bytes, nonce: bytes) -> aead.ChaCha20Poly1305:
    """The payload AEAD for ``file_key`` and the payload nonce."""
    key = hkdf.HKDF(hashes.SHA256(), 32, salt=nonce, info=b"payload").derive(file_key)
    return aead.ChaCha20Poly1305(key)


def _nonce(counter: int, last: bool) -> bytes:
    if counter >= _MAX_COUNTER:
        raise errors.CryptoError("age payload: too many chunks")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def seal(cipher: aead.ChaCha20Poly1305, plaintext: Iterable[bytes]) -> Iterator[bytes]:
    """Yield sealed chunks of ``plaintext``; at most one chunk plus one input piece is held."""
    buf = bytearray()
    counter = 0
    for piece in plaintext:
        view = memoryview(piece)
        pos = 0
        while pos < len(view):
            if len(buf) == CHUNK:
                yield cipher.encrypt(_nonce(counter, False), bytes(buf), None)
                counter += 1
                buf.clear()
            take = min(CHUNK - len(buf), len(view) - pos)
            buf += view[pos : pos + take]
            pos += take
    yield cipher.encrypt(_nonce(counter, True), bytes(buf), None)


def read_full(source: _ageheader.Readable, size: int, rest: bytearray) -> bytes:
    """Up to ``size`` bytes, first from ``rest`` then from ``source``; short only at EOF."""
    out = bytearray(rest[:size])
    del rest[:size]
    while len(out) < size:
        chunk = source.read(size - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def _open_chunk(cipher: aead.ChaCha20Poly1305, counter: int, data: bytes, last: bool) -> bytes:
    try:
        return cipher.decrypt(_nonce(counter, last), data, None)
    except InvalidTag:
        pass
    if not last:
        try:
            cipher.decrypt(_nonce(counter, True), data, None)
        except InvalidTag:
            pass
        else:
            raise errors.IntegrityError("age payload: data after the final chunk")
    raise errors.IntegrityError(f"age payload: chunk {counter} failed authentication")


def open_stream(
    cipher: aead.ChaCha20Poly1305, source: _ageheader.Readable, rest: bytearray
) -> Iterator[bytes]:
    """Yield each chunk's plaintext once that chunk is authenticated (see ageformat.decrypt)."""
    size = CHUNK + TAG
    data = read_full(source, size, rest)
    counter = 0
    while True:
        following = read_full(source, size, rest) if len(data) == size else b""
        last = not following
        if len(data) < TAG:
            raise errors.IntegrityError("age payload: truncated (no final chunk)")
        plain = _open_chunk(cipher, counter, data, last)
        if last and not plain and counter > 0:
            raise errors.IntegrityError("age payload: empty final chunk after other chunks")
        yield plain
        if last:
            return
        data = following
        counter += 1
