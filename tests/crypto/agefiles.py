"""Helpers for building and dissecting age files in tests, independent of the code under test
where that matters (the header MAC is recomputed here from the spec, not by ageformat)."""

from __future__ import annotations

import hashlib
import hmac
import io

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import aead
from cryptography.hazmat.primitives.kdf import hkdf

from strongroom.crypto import _ageheader, ageformat

CHUNK_CT = ageformat.CHUNK_SIZE + 16


class FixedRandom:
    """A deterministic byte stream (SHAKE-256 of a seed) standing in for ``os.urandom``."""

    def __init__(self, seed: bytes) -> None:
        self._stream = hashlib.shake_256(seed).digest(4096)
        self._position = 0

    def __call__(self, n: int) -> bytes:
        out = self._stream[self._position : self._position + n]
        self._position += n
        return out


def split(sealed: bytes) -> tuple[ageformat.Header, bytes, bytes]:
    """(header, header bytes, rest) of an age file."""
    header = ageformat.read_header(io.BytesIO(sealed))
    return header, sealed[: header.length], sealed[header.length :]


def header_mac(file_key: bytes, mac_input: bytes) -> bytes:
    key = hkdf.HKDF(hashes.SHA256(), 32, salt=b"", info=b"header").derive(file_key)
    return hmac.digest(key, mac_input, hashlib.sha256)


def with_stanzas(
    stanzas: list[_ageheader.Stanza], file_key: bytes, payload: bytes, *, remac: bool = True
) -> bytes:
    """A file whose header holds ``stanzas``; MAC'd with ``file_key`` unless ``remac`` is off."""
    prefix = _ageheader.encode_prefix(stanzas)
    mac = header_mac(file_key, prefix) if remac else bytes(32)
    return prefix + b" " + _ageheader.b64encode(mac) + b"\n" + payload


def payload_cipher(file_key: bytes, nonce: bytes) -> aead.ChaCha20Poly1305:
    key = hkdf.HKDF(hashes.SHA256(), 32, salt=nonce, info=b"payload").derive(file_key)
    return aead.ChaCha20Poly1305(key)


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]
