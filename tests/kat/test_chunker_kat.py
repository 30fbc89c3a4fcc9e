"""Chunker known-answer vectors (``chunker.json``): both chunkers reproduce every one.

The vectors come from ``generate_chunker.py``, written from docs/format.md §10.1 alone; its
key derivation is anchored here to ``openssl kdf HKDF``. Cuts and chunk ids are checked for
the C extension and for the pure-Python chunker, through ``cuts`` and through ``chunks``.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import pathlib
import shutil
import subprocess
from typing import Any

import pytest

from strongroom.crypto import chunker, kdf
from tests.kat import generate_chunker

HERE = pathlib.Path(__file__).parent
CHUNKER = json.loads((HERE / "chunker.json").read_text())
VECTORS: list[dict[str, Any]] = CHUNKER["vectors"]
REPOSITORY_ID = bytes.fromhex(CHUNKER["repository_id"])
NAMES = [v["name"] for v in VECTORS]


def _lengths(vector: dict[str, Any]) -> list[int]:
    return [end - start for start, end in itertools.pairwise([0, *vector["ends"]])]


def _openssl_hkdf(epoch_key: bytes, purpose: str, length: int) -> bytes:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is required for the known-answer anchors")
    out = subprocess.run(
        [openssl, "kdf", "-keylen", str(length), "-kdfopt", "digest:SHA256"]
        + ["-kdfopt", f"hexkey:{epoch_key.hex()}", "-kdfopt", f"hexsalt:{REPOSITORY_ID.hex()}"]
        + ["-kdfopt", f"info:strongroom.io/v1/{purpose}", "HKDF"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return bytes.fromhex(out.strip().replace(":", ""))


def test_vectors_cover_the_required_cases() -> None:
    assert (CHUNKER["min"], CHUNKER["avg"], CHUNKER["max"]) == (
        chunker.MIN,
        chunker.AVG,
        chunker.MAX,
    )
    sizes = {v["size"] for v in VECTORS}
    assert {0, chunker.MIN - 1, chunker.MIN} <= sizes and max(sizes) >= 3 * 1024 * 1024
    inner = [n for v in VECTORS for n in _lengths(v)[:-1]]  # cut by the rule, not by the end
    assert chunker.MAX in inner
    assert any(chunker.MIN <= n < chunker.AVG for n in inner)
    assert any(chunker.AVG <= n < chunker.MAX for n in inner)
    by_data: dict[str, set[tuple[str, tuple[int, ...]]]] = {}
    for v in VECTORS:
        by_data.setdefault(v["sha256"], set()).add((v["epoch_key"], tuple(v["ends"])))
    assert any(
        len(keyed) > 1 and len({ends for _, ends in keyed}) > 1 for keyed in by_data.values()
    )


@pytest.mark.parametrize("epoch_key", sorted({v["epoch_key"] for v in VECTORS}))
def test_subkeys_of_the_vectors_match_ours_and_openssl(epoch_key: str) -> None:
    key = bytes.fromhex(epoch_key)
    vector = next(v for v in VECTORS if v["epoch_key"] == epoch_key)
    table = kdf.subkey(key, REPOSITORY_ID, "chunker-table", chunker.TABLE_SIZE)
    assert table == _openssl_hkdf(key, "chunker-table", 2048)
    assert hashlib.sha256(table).hexdigest() == vector["table_sha256"]
    prf_key = kdf.subkey(key, REPOSITORY_ID, "chunker-prf", chunker.PRF_KEY_SIZE)
    assert prf_key.hex() == vector["prf_key"] == _openssl_hkdf(key, "chunker-prf", 16).hex()
    id_key = chunker.chunk_id_key(key, REPOSITORY_ID)
    assert id_key.hex() == vector["chunk_id_key"] == _openssl_hkdf(key, "chunk-id", 32).hex()


@pytest.mark.parametrize("native", [True, False], ids=["c", "python"])
@pytest.mark.parametrize("vector", VECTORS, ids=NAMES)
def test_vector_reproduces(vector: dict[str, Any], native: bool) -> None:
    data = generate_chunker.build(vector["parts"])
    assert hashlib.sha256(data).hexdigest() == vector["sha256"] and len(data) == vector["size"]
    cutter = chunker.for_epoch(bytes.fromhex(vector["epoch_key"]), REPOSITORY_ID, native=native)
    assert cutter.native is native
    id_key = bytes.fromhex(vector["chunk_id_key"])
    chunks = list(cutter.chunks(io.BytesIO(data)))
    assert [len(c) for c in chunks] == _lengths(vector)
    assert [chunker.chunk_id(id_key, c).hex() for c in chunks] == vector["ids"]
    if native:  # cuts() alone: every end but a remainder's (the Python one ran it in chunks())
        cuts = cutter.cuts(data)
        assert cuts == vector["ends"][: len(cuts)]
        assert len(vector["ends"]) - len(cuts) in (0, 1)


def test_generator_reproduces_the_small_vectors() -> None:
    small = generate_chunker.CASES[: generate_chunker.SMALL]
    assert [generate_chunker.vector(*case) for case in small] == VECTORS[: len(small)]
