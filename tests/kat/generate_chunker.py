"""Regenerate ``chunker.json``: ``.venv/bin/python tests/kat/generate_chunker.py`` (seconds).

An implementation of docs/format.md §10.1 written from the text alone, as plainly as it reads,
and independent of the product: it imports nothing from ``strongroom``. HKDF is written out
from RFC 5869; ``U`` comes from a general GF(2^64) product, not from repeated doubling; the
window hash rolls over the whole file from its first byte (bytes before the start contributing
nothing), never restarted at a cut; every position with ``MIN <= L < MAX`` goes through its own
AES call; and the rolled hash is checked against the sum that defines it at every cut.

Inputs are built from fixed labels, so the output is the same on every run:

- ``stream(label, n)``: the first ``n`` bytes of SHAKE-256(``"strongroom.io/kat/chunker/" +
  label``); ``text(n)``: numbered lines of English, compressible; ``repeat(hex, n)``: one byte
  value ``n`` times;
- keys: the epoch key ``stream("epoch-key", 32)`` (or ``"epoch-key-2"``), repository id
  ``stream("repository-id", 16)``; ``T``, ``P`` and the chunk-id key are their subkeys (§4.3).

Each vector lists the end offset of every chunk (the last one is the input's size) and the
chunk ids, keyed BLAKE3, in hex. ``test_chunker_kat.py`` checks the small vectors against this
generator and every vector against both of the product's chunkers.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import pathlib
import struct
from typing import Any

import blake3
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HERE = pathlib.Path(__file__).parent
KiB = 1024
MIN, AVG, MAX = 32 * KiB, 128 * KiB, 512 * KiB
POLY = (1 << 64) | 0x1B  # p(x) = x^64 + x^4 + x^3 + x + 1
#: (name, epoch key label, parts): the input is the concatenation of the parts.
CASES: list[tuple[str, str, list[list[Any]]]] = [
    ("empty", "epoch-key", []),
    ("shorter-than-min", "epoch-key", [["stream", "short", MIN - 1]]),
    ("exactly-min", "epoch-key", [["stream", "min", MIN]]),
    (
        "3MiB-random-and-text",
        "epoch-key",
        [["stream", "mixed-1", 1280 * KiB], ["text", 512 * KiB], ["stream", "mixed-2", 1280 * KiB]],
    ),
    (
        "3MiB-random-and-text-second-key",
        "epoch-key-2",
        [["stream", "mixed-1", 1280 * KiB], ["text", 512 * KiB], ["stream", "mixed-2", 1280 * KiB]],
    ),
    (
        "run-of-identical-bytes",
        "epoch-key",
        [
            ["stream", "run-head", 100_000],
            ["repeat", "00", 1536 * KiB],
            ["stream", "run-tail", 50_000],
        ],
    ),
]
SMALL = 3  # the first SMALL cases are cheap enough to regenerate inside the test run


def stream(label: str, n: int) -> bytes:
    return hashlib.shake_256(("strongroom.io/kat/chunker/" + label).encode()).digest(n)


def text(n: int) -> bytes:
    lines = (f"{k:06d} the quick brown fox jumps over the lazy dog\n" for k in range(n // 40 + 1))
    return "".join(lines).encode()[:n]


def build(parts: list[list[Any]]) -> bytes:
    out = []
    for kind, *args in parts:
        if kind == "stream":
            out.append(stream(args[0], args[1]))
        elif kind == "text":
            out.append(text(args[0]))
        else:
            out.append(bytes.fromhex(args[0]) * args[1])
    return b"".join(out)


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.digest(salt, ikm, "sha256")
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        out, counter = out + block, counter + 1
    return out[:length]


def subkey(epoch_key: bytes, purpose: str, length: int) -> bytes:
    info = ("strongroom.io/v1/" + purpose).encode()
    return hkdf(epoch_key, stream("repository-id", 16), info, length)


def gf_mul(a: int, b: int) -> int:
    """``a·b mod p`` by schoolbook carry-less multiplication and long division."""
    product = 0
    for k in range(64):
        if b >> k & 1:
            product ^= a << k
    for k in range(127, 63, -1):
        if product >> k & 1:
            product ^= POLY << (k - 64)
    return product


def window_hash(table: list[int], data: bytes, i: int) -> int:
    """``H_i = Σ_{j=0..63} T[d_{i-j}]·x^j``, from the definition."""
    h = 0
    for j in range(64):
        if i - j >= 0:
            h ^= gf_mul(table[data[i - j]], 1 << j)
    return h


def chunk_ends(table: list[int], prf_key: bytes, data: bytes) -> list[int]:
    leave = [gf_mul(t, gf_mul(1 << 32, 1 << 32)) for t in table]  # U[b] = T[b]·x^64
    encrypt = Cipher(algorithms.AES(prf_key), modes.ECB()).encryptor()  # noqa: S305
    ends, start, h = [], 0, 0
    for i, byte in enumerate(data):
        h = ((h << 1) ^ (POLY if h >> 63 else 0)) ^ table[byte]
        if i >= 64:
            h ^= leave[data[i - 64]]
        length = i - start + 1
        if length < MIN:
            continue
        if length == MAX:
            cut = True
        else:
            r = int.from_bytes(encrypt.update(h.to_bytes(8, "little") + bytes(8))[:8], "little")
            cut = r & ((1 << 19) - 1 if length < AVG else (1 << 15) - 1) == 0
        if cut:
            assert h == window_hash(table, data, i)
            ends.append(i + 1)
            start = i + 1
    if start < len(data):
        ends.append(len(data))
    return ends


def vector(name: str, key_label: str, parts: list[list[Any]]) -> dict[str, Any]:
    epoch_key = stream(key_label, 32)
    table_bytes = subkey(epoch_key, "chunker-table", 2048)
    table = list(struct.unpack("<256Q", table_bytes))
    prf_key = subkey(epoch_key, "chunker-prf", 16)
    id_key = subkey(epoch_key, "chunk-id", 32)
    data = build(parts)
    ends = chunk_ends(table, prf_key, data)
    return {
        "name": name,
        "epoch_key": epoch_key.hex(),
        "table_sha256": hashlib.sha256(table_bytes).hexdigest(),
        "prf_key": prf_key.hex(),
        "chunk_id_key": id_key.hex(),
        "parts": parts,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "ends": ends,
        "ids": [
            blake3.blake3(data[s:e], key=id_key).hexdigest()
            for s, e in itertools.pairwise([0, *ends])
        ],
    }


def vectors() -> dict[str, Any]:
    return {
        "repository_id": stream("repository-id", 16).hex(),
        "min": MIN,
        "avg": AVG,
        "max": MAX,
        "vectors": [vector(*case) for case in CASES],
    }


def main() -> None:
    text_out = json.dumps(vectors(), indent=1, sort_keys=True) + "\n"
    (HERE / "chunker.json").write_text(text_out)


if __name__ == "__main__":
    main()
