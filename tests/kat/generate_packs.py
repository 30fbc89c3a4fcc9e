"""Regenerate ``packs.json``: ``PYTHONPATH=. .venv/bin/python tests/kat/generate_packs.py``.

A pack and an index of format §10.2-10.3, built from fixed inputs: the epoch key
``stream("volume-epoch-key", 32)``, repository id ``stream("volume-repository-id", 16)``,
pack id and index id from fixed streams, the random bytes the pack builder draws (pack key,
age file key, ephemeral X25519 secret, age nonce) replayed from ``stream("volume-rng", 200)``,
and three chunks (ids: keyed BLAKE3 under the epoch's ``chunk-id`` subkey) in their stored
forms (one zstd-compressed, two raw), so that the pack's bytes do not depend on the zstd
library's version. ``test_packs_kat.py`` checks that the product rebuilds the pack byte for
byte and reads both objects, and that ``docs/recover_volume.py`` (written from the format
text, sharing no code with the product) reads them too.
"""

from __future__ import annotations

import base64
import json
import pathlib
from typing import Any

import zstandard

from strongroom.crypto import kdf
from strongroom.repository import documents
from strongroom.repository.volumes import indexes, packs
from tests.kat.generate import Replay, stream

HERE = pathlib.Path(__file__).parent
EPOCH = 2


def inputs() -> dict[str, Any]:
    repository = documents.id_from_bytes(stream("volume-repository-id", 16))
    text = b"".join(b"line %d of a log that compresses\n" % i for i in range(200))
    chunks = [
        {"plain": text, "stored": zstandard.ZstdCompressor(level=3).compress(text), "flags": 1},
        {"plain": stream("volume-chunk-1", 300), "flags": 0},
        {"plain": b"", "flags": 0},
    ]
    for chunk in chunks:
        chunk.setdefault("stored", chunk["plain"])
    return {
        "repository": repository,
        "epoch": EPOCH,
        "epochKey": stream("volume-epoch-key", 32),
        "packId": documents.id_from_bytes(stream("volume-pack-id", 16)),
        "indexId": documents.id_from_bytes(stream("volume-index-id", 16)),
        "rng": stream("volume-rng", 200),
        "chunks": chunks,
    }


def build(v: dict[str, Any]) -> tuple[bytes, list[packs.Entry], bytes]:
    repo_id = documents.id_bytes(v["repository"])
    identity = kdf.recipient_identity(v["epochKey"], repo_id)
    builder = packs.Builder(
        v["repository"], v["epoch"], identity.recipient(), rng=Replay(v["rng"]), pack_id=v["packId"]
    )
    for i, chunk in enumerate(v["chunks"]):
        chunk_id = stream(
            f"volume-chunk-id-{i}", 32
        )  # ids are the writer's claim; the tag binds them
        builder.add(chunk_id, chunk["stored"], chunk["flags"], len(chunk["plain"]))
    data, entries = builder.finish()
    index_key = kdf.subkey(v["epochKey"], repo_id, "volume-index")
    item = indexes.PackEntries(v["packId"], len(data), tuple(entries))
    _, index = indexes.seal(index_key, v["repository"], v["epoch"], [item], index_id=v["indexId"])
    return data, entries, index


def main() -> None:
    v = inputs()
    data, entries, index = build(v)
    out = {
        "repository": v["repository"],
        "epoch": v["epoch"],
        "epochKey": base64.b64encode(v["epochKey"]).decode(),
        "packId": v["packId"],
        "indexId": v["indexId"],
        "chunks": [
            {"plain": c["plain"].hex(), "stored": c["stored"].hex(), "flags": c["flags"]}
            for c in v["chunks"]
        ],
        "entries": [[e.chunk_id.hex(), e.offset, e.stored, e.plain, e.flags] for e in entries],
        "pack": data.hex(),
        "index": index.hex(),
    }
    (HERE / "packs.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
