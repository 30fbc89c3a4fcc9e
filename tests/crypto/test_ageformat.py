"""Round trips of the age format: sizes, input shapes, recipients, laziness, wrong keys."""

from __future__ import annotations

import io
import os
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.crypto import ageformat, agekeys, errors

CHUNK = ageformat.CHUNK_SIZE
SIZES = [0, 1, 15, 16, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 7, 200 * 1024]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_sizes(
    size: int, alice: agekeys.Identity, bob: agekeys.Identity, bind: bytes
) -> None:
    data = os.urandom(size)
    sealed = ageformat.encrypt_bytes([alice.recipient(), bob.recipient()], bind, data)
    chunks = max(1, -(-size // CHUNK))
    assert len(sealed) == ageformat.read_header(io.BytesIO(sealed)).length + 16 + size + 16 * chunks
    assert ageformat.decrypt_bytes([bob], bind, sealed) == data
    assert ageformat.decrypt_bytes([alice], None, sealed) == data


@settings(max_examples=40, deadline=None)
@given(
    pieces=st.lists(st.binary(max_size=3 * CHUNK // 2), max_size=5),
    recipients=st.integers(min_value=1, max_value=4),
    opener=st.integers(min_value=0, max_value=3),
)
def test_round_trip_any_pieces_and_recipients(
    pieces: list[bytes], recipients: int, opener: int, bind: bytes
) -> None:
    identities = [agekeys.Identity.generate() for _ in range(recipients)]
    sealed = b"".join(ageformat.encrypt([i.recipient() for i in identities], bind, pieces))
    who = identities[opener % recipients]
    assert b"".join(ageformat.decrypt([who], bind, io.BytesIO(sealed))) == b"".join(pieces)


def test_header_layout_bind_first_then_one_x25519_per_recipient(
    alice: agekeys.Identity, bob: agekeys.Identity, bind: bytes
) -> None:
    sealed = ageformat.encrypt_bytes([alice.recipient(), bob.recipient()], bind, b"x")
    header = ageformat.read_header(io.BytesIO(sealed))
    assert [s.type for s in header.stanzas] == [ageformat.BIND_STANZA, "X25519", "X25519"]
    assert header.stanzas[0].body == b""
    assert sealed.startswith(b"age-encryption.org/v1\n-> strongroom.io/bind ")


def test_decrypt_yields_one_chunk_at_a_time(alice: agekeys.Identity, bind: bytes) -> None:
    data = os.urandom(3 * CHUNK + 5)
    sealed = ageformat.encrypt_bytes([alice.recipient()], bind, data)
    chunks = list(ageformat.decrypt([alice], bind, io.BytesIO(sealed)))
    assert [len(c) for c in chunks] == [CHUNK, CHUNK, CHUNK, 5]


class _CountingReader:
    """A reader that records the furthest offset read, returning short reads of 1000 bytes."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.position = 0

    def read(self, n: int) -> bytes:
        out = self._data[self.position : self.position + min(n, 1000)]
        self.position += len(out)
        return out


def test_decrypt_reads_lazily_with_short_reads(alice: agekeys.Identity, bind: bytes) -> None:
    data = os.urandom(10 * CHUNK)
    sealed = ageformat.encrypt_bytes([alice.recipient()], bind, data)
    reader = _CountingReader(sealed)
    stream = ageformat.decrypt([alice], bind, reader)
    assert next(stream) == data[:CHUNK]
    assert reader.position < 3 * (CHUNK + 16) + 4096
    assert next(stream) + b"".join(stream) == data[CHUNK:]


def test_encrypt_consumes_input_lazily(alice: agekeys.Identity, bind: bytes) -> None:
    consumed = []

    def source() -> Iterator[bytes]:
        for index in range(100):
            consumed.append(index)
            yield bytes(CHUNK)

    stream = ageformat.encrypt([alice.recipient()], bind, source())
    next(stream)  # header
    next(stream)  # first chunk
    assert len(consumed) <= 2
    rest = b"".join(stream)
    assert len(consumed) == 100 and len(rest) == 99 * (CHUNK + 16)


def test_a_huge_single_piece_is_sliced_not_copied_whole(
    alice: agekeys.Identity, bind: bytes
) -> None:
    data = os.urandom(40 * CHUNK)
    parts = list(ageformat.encrypt([alice.recipient()], bind, [data]))
    assert max(len(p) for p in parts[1:]) == CHUNK + 16
    assert ageformat.decrypt_bytes([alice], bind, b"".join(parts)) == data


def test_wrong_identity_is_no_matching_identity(
    alice: agekeys.Identity, bob: agekeys.Identity, bind: bytes
) -> None:
    sealed = ageformat.encrypt_bytes([alice.recipient()], bind, b"secret")
    with pytest.raises(errors.NoMatchingIdentity) as info:
        ageformat.decrypt_bytes([bob], bind, sealed)
    assert info.value.exit_code == 7
    with pytest.raises(errors.NoMatchingIdentity):
        ageformat.decrypt_bytes([], bind, sealed)


def test_any_of_several_identities_opens(
    alice: agekeys.Identity, bob: agekeys.Identity, bind: bytes
) -> None:
    sealed = ageformat.encrypt_bytes([alice.recipient()], bind, b"secret")
    assert ageformat.decrypt_bytes([bob, alice], bind, sealed) == b"secret"


def test_bind_must_be_32_bytes_and_recipients_non_empty(alice: agekeys.Identity) -> None:
    with pytest.raises(errors.CryptoError):
        ageformat.encrypt_bytes([alice.recipient()], b"short", b"")
    with pytest.raises(errors.CryptoError):
        ageformat.encrypt_bytes([], bytes(32), b"")


def test_fresh_file_key_and_nonce_every_time(alice: agekeys.Identity, bind: bytes) -> None:
    one = ageformat.encrypt_bytes([alice.recipient()], bind, b"same")
    two = ageformat.encrypt_bytes([alice.recipient()], bind, b"same")
    assert one != two and one[-20:] != two[-20:]


class _SealedSource:
    """Serves an age file whose payload is produced on demand, never held whole."""

    def __init__(self, stream: Iterator[bytes]) -> None:
        self._stream = stream
        self._buffer = b""

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            piece = next(self._stream, b"")
            if not piece:
                break
            self._buffer += piece
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


def _pieces(piece: bytes, count: int) -> Iterator[bytes]:
    for _ in range(count):
        yield piece


def _peak(identity: agekeys.Identity, bind: bytes, piece: bytes, count: int) -> int:
    tracemalloc.start()
    try:
        sealed = ageformat.encrypt([identity.recipient()], bind, _pieces(piece, count))
        total = sum(len(c) for c in ageformat.decrypt([identity], bind, _SealedSource(sealed)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == count * len(piece)
    return peak


def test_memory_stays_bounded_whatever_the_size(alice: agekeys.Identity, bind: bytes) -> None:
    """Encrypt and decrypt piped together: the peak of new allocations is a few chunks, the
    same for 4 MiB as for 64 MiB."""
    piece = bytes(range(256)) * 4096  # 1 MiB, allocated before tracing and reused
    _peak(alice, bind, piece, 1)  # warm up lazily initialised library state
    small, large = _peak(alice, bind, piece, 4), _peak(alice, bind, piece, 64)
    assert large < 10 * CHUNK, large
    assert large < small + 2 * CHUNK, (small, large)


def test_header_problems_surface_when_called_not_when_iterated(
    alice: agekeys.Identity, bob: agekeys.Identity, bind: bytes
) -> None:
    sealed = ageformat.encrypt_bytes([alice.recipient()], bind, b"secret")
    with pytest.raises(errors.NoMatchingIdentity):
        ageformat.decrypt([bob], bind, io.BytesIO(sealed))
    with pytest.raises(errors.IntegrityError, match="bind"):
        ageformat.decrypt([alice], bytes(32), io.BytesIO(sealed))
    with pytest.raises(errors.CryptoError):
        ageformat.encrypt([], bind, [b"x"])
