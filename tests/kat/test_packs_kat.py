"""Known answers for volume packs and indexes (format §10.2-10.3), read by two implementations."""

from __future__ import annotations

import base64
import importlib.util
import json
import pathlib
import sys
import types

import pytest

from strongroom.crypto import kdf
from strongroom.repository import documents, errors
from strongroom.repository.volumes import indexes, packs
from tests.kat import generate_packs

HERE = pathlib.Path(__file__).parent
VECTOR = json.loads((HERE / "packs.json").read_text())
PACK = bytes.fromhex(VECTOR["pack"])
INDEX = bytes.fromhex(VECTOR["index"])
REPO = VECTOR["repository"]
EPOCH = VECTOR["epoch"]
EPOCH_KEY = base64.b64decode(VECTOR["epochKey"])


def _recovery() -> types.ModuleType:
    path = HERE.parents[1] / "docs" / "recover_volume.py"
    spec = importlib.util.spec_from_file_location("recover_volume", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("recover_volume", module)
    spec.loader.exec_module(module)
    return module


def test_the_builder_reproduces_the_pack_byte_for_byte() -> None:
    data, entries, _ = generate_packs.build(generate_packs.inputs())
    assert data == PACK
    assert [[e.chunk_id.hex(), e.offset, e.stored, e.plain, e.flags] for e in entries] == (
        VECTOR["entries"]
    )


def test_the_product_reads_the_pack_and_the_index() -> None:
    identity = kdf.recipient_identity(EPOCH_KEY, documents.id_bytes(REPO))
    keyfile = PACK[: packs.keyfile_length(PACK[:4096], "kat")]
    opened = packs.open_keyfile(REPO, VECTOR["packId"], EPOCH, keyfile, identity)
    length = packs.trailer_length(PACK[-4:], len(PACK), "kat")
    entries = opened.trailer(PACK[-4 - length : -4], len(PACK), len(keyfile))
    for number, (entry, chunk) in enumerate(zip(entries, VECTOR["chunks"], strict=True)):
        sealed = PACK[entry.offset : entry.offset + entry.stored]
        assert opened.blob(number, entry, sealed) == bytes.fromhex(chunk["plain"])
    index_key = kdf.subkey(EPOCH_KEY, documents.id_bytes(REPO), "volume-index")
    items = indexes.open_(index_key, REPO, VECTOR["indexId"], EPOCH, INDEX)
    assert [(i.pack_id, i.size, list(i.entries)) for i in items] == [
        (VECTOR["packId"], len(PACK), entries)
    ]
    with pytest.raises(errors.IntegrityViolation):
        indexes.open_(index_key, REPO, VECTOR["packId"], EPOCH, INDEX)  # under another id


def test_the_recovery_script_reads_them_too(tmp_path: pathlib.Path) -> None:
    recovery = _recovery()
    (tmp_path / "v" / "p").mkdir(parents=True)
    (tmp_path / "v" / "i").mkdir(parents=True)
    (tmp_path / "v" / "p" / VECTOR["packId"]).write_bytes(PACK)
    (tmp_path / "v" / "i" / VECTOR["indexId"]).write_bytes(INDEX)
    keyring = {"repository": REPO, "epochs": [{"key": ""}, {"key": VECTOR["epochKey"]}]}
    keys = recovery.Keys(keyring, EPOCH)
    where = recovery.read_indexes(tmp_path, keys)
    reader = recovery.Packs(tmp_path, keys)
    for chunk_hex, _, _, _, _ in VECTOR["entries"]:
        pack_id, number, entry = where[bytes.fromhex(chunk_hex)]
        plain = reader.chunk(pack_id, number, entry)
        assert plain == bytes.fromhex(VECTOR["chunks"][number]["plain"])
