#!/usr/bin/env python3
"""Restore a volume snapshot without Strongroom: needs Python 3, `cryptography` and `zstandard`.

    python3 recover_volume.py --location DIR --keyring keyring.json --tree tree.jsonl --target OUT

``keyring.json`` and ``tree.jsonl`` come from the stock ``age`` and ``zstd`` tools with the
offline recovery identity (docs/recovery.md, "Volume data"). This script follows
docs/format.md §10: it derives the epoch's subkeys from the keyring, reads the indexes
(``v/i/``), opens each pack's key file (an age file to the epoch's repository recipient) and
decrypts the chunks each file of the tree needs. Every blob is authenticated (AES-GCM, bound
to repository, pack, epoch, blob number and chunk id); chunk ids are not recomputed (that
needs BLAKE3, which Strongroom's own restore and `volume verify --read-data` do).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import pathlib
import struct
import sys

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ENTRY = struct.Struct(">32sIIIB")


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(hashes.SHA256(), length, salt=salt, info=info).derive(ikm)


def id_bytes(text: str) -> bytes:
    return base64.b32decode(text.upper() + "======")


def id_text(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=").lower()


def b64(text: bytes) -> bytes:
    return base64.b64decode(text + b"=" * (-len(text) % 4))


class Keys:
    def __init__(self, keyring: dict, epoch: int) -> None:
        self.repo = id_bytes(keyring["repository"])
        epoch_key = base64.b64decode(keyring["epochs"][epoch - 1]["key"])
        self.epoch = epoch
        self.index = hkdf(epoch_key, self.repo, b"strongroom.io/v1/volume-index")
        secret = hkdf(epoch_key, self.repo, b"strongroom.io/v1/recipient")
        self.identity = x25519.X25519PrivateKey.from_private_bytes(secret)
        self.recipient = self.identity.public_key().public_bytes_raw()


def read_indexes(location: pathlib.Path, keys: Keys) -> dict[bytes, tuple[str, int, tuple]]:
    """chunk id -> (pack id, blob number, entry)."""
    where: dict[bytes, tuple[str, int, tuple]] = {}
    for path in sorted((location / "v" / "i").iterdir()):
        data = path.read_bytes()
        if data[:8] != b"SRIX\x01\x00\x00\x00" or struct.unpack(">I", data[8:12])[0] != keys.epoch:
            continue
        index_id = id_bytes(path.name)
        key = hkdf(keys.index, index_id, b"strongroom.io/v1/index-key")
        aad = b"strongroom.io/index/v1\x00" + keys.repo + index_id + struct.pack(">I", keys.epoch)
        plain = AESGCM(key).decrypt(bytes(12), data[12:], aad)
        body = zstandard.ZstdDecompressor().decompress(plain, max_output_size=64 << 20)
        (count,) = struct.unpack_from(">I", body, 4)
        position = 8
        for _ in range(count):
            raw_id, _size, n = struct.unpack_from(">16sQI", body, position)
            position += 28
            for number in range(n):
                entry = ENTRY.unpack_from(body, position + number * ENTRY.size)
                where.setdefault(entry[0], (id_text(raw_id), number, entry))
            position += n * ENTRY.size
    return where


def open_pack_key(data: bytes, keys: Keys) -> bytes:
    """The pack key from the age file at the pack's start (age v1, X25519 stanza)."""
    end = data.index(b"\n--- ")
    mac_end = data.index(b"\n", end + 1)
    lines = data[:end].split(b"\n")
    file_key = None
    for i, line in enumerate(lines):
        if line.startswith(b"-> X25519 "):
            share = b64(line.split(b" ")[2])
            shared = keys.identity.exchange(x25519.X25519PublicKey.from_public_bytes(share))
            wrap = hkdf(shared, share + keys.recipient, b"age-encryption.org/v1/X25519")
            try:
                file_key = ChaCha20Poly1305(wrap).decrypt(bytes(12), b64(lines[i + 1]), None)
                break
            except InvalidTag:  # another recipient's stanza
                pass
    if file_key is None:
        raise SystemExit("a pack's key file does not open with this keyring")
    mac_key = hkdf(file_key, b"", b"header")
    expected = hmac.new(mac_key, data[: end + 4], hashlib.sha256).digest()
    if not hmac.compare_digest(expected, b64(data[end + 5 : mac_end])):
        raise SystemExit("a pack's key file fails its header MAC")
    nonce = data[mac_end + 1 : mac_end + 17]
    payload = hkdf(file_key, nonce, b"payload")
    sealed = data[mac_end + 17 : mac_end + 17 + 48]
    return ChaCha20Poly1305(payload).decrypt(bytes(11) + b"\x01", sealed, None)


class Packs:
    def __init__(self, location: pathlib.Path, keys: Keys) -> None:
        self.location, self.keys, self.cache = location, keys, {}

    def chunk(self, pack_id: str, number: int, entry: tuple) -> bytes:
        chunk_id, offset, stored, plain_size, flags = entry
        path = self.location / "v" / "p" / pack_id
        if pack_id not in self.cache:
            with path.open("rb") as f:
                self.cache[pack_id] = open_pack_key(f.read(4096), self.keys)
        with path.open("rb") as f:
            f.seek(offset)
            sealed = f.read(stored)
        ctx = self.keys.repo + id_bytes(pack_id) + struct.pack(">I", self.keys.epoch)
        aad = b"strongroom.io/pack/v1\x00" + ctx + struct.pack(">I", number) + chunk_id
        data = AESGCM(self.cache[pack_id]).decrypt(
            number.to_bytes(12, "big"), sealed, aad + bytes([flags])
        )
        if flags & 1:
            data = zstandard.ZstdDecompressor().decompress(data, max_output_size=plain_size)
        return data


def name(entry: dict, key: str) -> bytes:
    if key in entry:
        return entry[key].encode()
    return base64.b64decode(entry[key + "b64"])


def write_file(path: bytes, entry: dict, where: dict, packs: Packs) -> None:
    """A regular file: its chunks spread over its data regions, holes left as holes."""
    regions, position = [], 0
    for offset, length in entry.get("holes", []):
        if offset > position:
            regions.append((position, offset - position))
        position = offset + length
    if entry["size"] > position:
        regions.append((position, entry["size"] - position))
    ids = base64.b64decode(entry["chunks"])
    with open(path, "wb") as f:
        f.truncate(entry["size"])
        for i in range(0, len(ids), 32):
            data = packs.chunk(*where[ids[i : i + 32]])
            while data:
                offset, length = regions[0]
                taken = min(length, len(data))
                f.seek(offset)
                f.write(data[:taken])
                data = data[taken:]
                regions[0] = (offset + taken, length - taken)
                if not regions[0][1]:
                    regions.pop(0)


def restore(tree: pathlib.Path, target: pathlib.Path, where: dict, packs: Packs) -> int:
    count = 0
    dirs = []
    for line in tree.read_bytes().splitlines()[1:]:
        entry = json.loads(line)
        if entry.get("end"):
            break
        path = os.path.join(os.fsencode(target), name(entry, "path"))
        kind = entry["type"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == "dir":
            os.makedirs(path, exist_ok=True)
            dirs.append((path, entry))
            continue
        if kind == "symlink":
            os.symlink(name(entry, "target"), path)
        elif kind == "file" and ("linkto" in entry or "linktob64" in entry):
            os.link(os.path.join(os.fsencode(target), name(entry, "linkto")), path)
            continue
        elif kind == "file":
            write_file(path, entry, where, packs)
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            print(f"skipped {kind} {path!r}", file=sys.stderr)
            continue
        if kind != "symlink":
            os.chmod(path, entry["mode"])
        mtime = int(entry["mtime"])
        os.utime(path, ns=(mtime, mtime), follow_symlinks=False)
        count += 1
    for path, entry in dirs:
        os.chmod(path, entry["mode"])
        os.utime(path, ns=(int(entry["mtime"]), int(entry["mtime"])))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--location", type=pathlib.Path, required=True)
    parser.add_argument("--keyring", type=pathlib.Path, required=True)
    parser.add_argument("--tree", type=pathlib.Path, required=True)
    parser.add_argument("--target", type=pathlib.Path, required=True)
    args = parser.parse_args()
    header = json.loads(args.tree.read_bytes().split(b"\n", 1)[0])
    keys = Keys(json.loads(args.keyring.read_bytes()), header["epoch"])
    where = read_indexes(args.location, keys)
    count = restore(args.tree, args.target, where, Packs(args.location, keys))
    print(f"restored {count} entries into {args.target}")


if __name__ == "__main__":
    main()
