"""age v1 files with Strongroom's bind stanza (docs/format.md §5.1).

Every file written here has the header::

    age-encryption.org/v1
    -> strongroom.io/bind <b64 SHA-256 of the object context>
    <empty body line>
    -> X25519 <share>            one stanza per recipient
    <body>
    --- <MAC>

and a STREAM payload; stock ``age`` decrypts it (it ignores the unknown bind stanza, whose bytes
the header MAC still covers). ``rng`` draws, in this order: the 16-byte file key, one 32-byte
ephemeral X25519 secret per recipient in the order given, the 16-byte payload nonce. It exists
for known-answer tests only; production code leaves it at ``os.urandom``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
from collections.abc import Callable, Iterable, Iterator, Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf import hkdf

from strongroom.crypto import _ageheader, _agestream, _agex25519, agekeys, errors

BIND_STANZA = "strongroom.io/bind"
BIND_SIZE = 32
FILE_KEY_SIZE = _agex25519.FILE_KEY_SIZE
CHUNK_SIZE = _agestream.CHUNK

Header = _ageheader.Header
Stanza = _ageheader.Stanza
Readable = _ageheader.Readable


def _mac(file_key: bytes, mac_input: bytes) -> bytes:
    key = hkdf.HKDF(hashes.SHA256(), 32, salt=b"", info=b"header").derive(file_key)
    return hmac.digest(key, mac_input, hashlib.sha256)


def _bind_stanza(bind: bytes) -> _ageheader.Stanza:
    if len(bind) != BIND_SIZE:
        raise errors.CryptoError("age bind value must be a 32-byte SHA-256 digest")
    return _ageheader.Stanza(BIND_STANZA, (_ageheader.b64encode(bind).decode("ascii"),), b"")


def _bind_value(stanza: _ageheader.Stanza) -> bytes:
    if len(stanza.args) != 1 or stanza.body:
        raise errors.IntegrityError("age header: malformed bind stanza")
    value = _ageheader.b64decode(stanza.args[0].encode("ascii"), "bind value")
    if len(value) != BIND_SIZE:
        raise errors.IntegrityError("age header: bind value is not 32 bytes")
    return value


def encrypt(
    recipients: Sequence[agekeys.Recipient],
    bind: bytes,
    plaintext: Iterable[bytes],
    *,
    rng: Callable[[int], bytes] = os.urandom,
) -> Iterator[bytes]:
    """Yield an age file (header, then payload chunks) for ``recipients``, bound to ``bind``.

    ``bind`` is the SHA-256 of the object context, written in the first stanza. Arguments are
    checked and the header is built when this is called; the input is then consumed lazily, at
    most one 64 KiB chunk plus one input piece held at a time.
    """
    if not recipients:
        raise errors.CryptoError("age encrypt: at least one recipient is required")
    bind_stanza = _bind_stanza(bind)
    file_key = rng(FILE_KEY_SIZE)
    stanzas = [bind_stanza]
    stanzas += [_agex25519.wrap(file_key, r, rng(agekeys.KEY_SIZE)) for r in recipients]
    nonce = rng(_agestream.NONCE_SIZE)
    if len(file_key) != FILE_KEY_SIZE or len(nonce) != _agestream.NONCE_SIZE:
        raise errors.CryptoError("age encrypt: random source returned a short read")
    header = _ageheader.encode(stanzas, _mac(file_key, _ageheader.encode_prefix(stanzas)))
    return _emit(
        header + nonce, _agestream.seal(_agestream.payload_key(file_key, nonce), plaintext)
    )


def _emit(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def encrypt_bytes(
    recipients: Sequence[agekeys.Recipient],
    bind: bytes,
    data: bytes,
    *,
    rng: Callable[[int], bytes] = os.urandom,
) -> bytes:
    """:func:`encrypt` of one bytes value, returning the whole file."""
    return b"".join(encrypt(recipients, bind, [data], rng=rng))


def _check_stanzas(header: _ageheader.Header) -> list[bytes]:
    binds: list[bytes] = []
    for stanza in header.stanzas:
        if stanza.type == _agex25519.TYPE:
            _agex25519.check(stanza)
        elif stanza.type == BIND_STANZA:
            binds.append(_bind_value(stanza))
    return binds


def _parse(reader: _ageheader.LineReader) -> tuple[_ageheader.Header, list[bytes]]:
    header = _ageheader.parse(reader)
    return header, _check_stanzas(header)


def read_header(ciphertext: Readable) -> Header:
    """Parse and validate the header of an age file (no key needed; the MAC is not checked)."""
    header, _ = _parse(_ageheader.LineReader(ciphertext))
    return header


def _unwrap(header: _ageheader.Header, identities: Sequence[agekeys.Identity]) -> bytes:
    for identity in identities:
        for stanza in header.stanzas:
            if stanza.type == _agex25519.TYPE:
                file_key = _agex25519.unwrap(stanza, identity)
                if file_key is not None:
                    return file_key
    raise errors.NoMatchingIdentity("age file: none of the given identities opens it")


def decrypt(
    identities: Sequence[agekeys.Identity],
    bind: bytes | None,
    ciphertext: Readable,
) -> Iterator[bytes]:
    """Open an age file; iterate the result for the plaintext, chunk by chunk.

    When called, before any payload is decrypted: the header is parsed strictly; when ``bind``
    is given, exactly one bind stanza must carry it (else IntegrityError naming "bind"); the
    file key is unwrapped with the first identity that opens a stanza (none:
    NoMatchingIdentity); the header MAC is verified. Each 64 KiB chunk is then authenticated
    before it is yielded. Truncation, trailing data and bad tags raise IntegrityError only when
    iteration reaches them, *after* earlier chunks were yielded, so a caller must treat the
    plaintext as usable only once the iterator is exhausted without error (the repository
    layer checks ciphertext digests before it decrypts).
    """
    reader = _ageheader.LineReader(ciphertext)
    header, binds = _parse(reader)
    if bind is not None and binds != [bind]:
        if len(binds) != 1:
            raise errors.IntegrityError(f"age file: expected one bind stanza, found {len(binds)}")
        raise errors.IntegrityError("age file: bind stanza does not match this object")
    file_key = _unwrap(header, identities)
    if not hmac.compare_digest(_mac(file_key, header.mac_input), header.mac):
        raise errors.IntegrityError("age file: header MAC does not verify")
    rest = bytearray(reader.rest)
    nonce = _agestream.read_full(ciphertext, _agestream.NONCE_SIZE, rest)
    if len(nonce) != _agestream.NONCE_SIZE:
        raise errors.IntegrityError("age payload: truncated before the nonce")
    return _agestream.open_stream(_agestream.payload_key(file_key, nonce), ciphertext, rest)


def decrypt_bytes(identities: Sequence[agekeys.Identity], bind: bytes | None, data: bytes) -> bytes:
    """:func:`decrypt` of a whole file held in memory."""
    return b"".join(decrypt(identities, bind, io.BytesIO(data)))
