"""Volume snapshots by a writer that cannot decrypt (format §6.2, §10.5): stored, deduplicated
and signed; restorable by readers; nothing in the credential opens a pack or a tree."""

from __future__ import annotations

import datetime
import json
import pathlib

import pytest

from strongroom import clock
from strongroom.crypto import ageformat, agekeys
from strongroom.engine.volumes import backup, restore
from strongroom.repository import backups, repo, writers
from strongroom.repository.volumes import packs, store
from strongroom.storage import base

MARKER = b"writer-only marker \xf0\x9f\x94\x92 " * 100


def tree(root: pathlib.Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def make_source(root: pathlib.Path) -> None:
    (root / "db").mkdir(parents=True)
    (root / "db" / "table").write_bytes(MARKER + bytes(range(256)) * 2000)
    (root / "small.txt").write_bytes(b"hello")


class Later:
    """A clock a minute ahead: snapshots taken within one second would tie on start time."""

    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1)


def as_writer(backend: base.Backend, credential: writers.Credential) -> writers.WriterRepository:
    return writers.WriterRepository.open(backend, credential, clock.SystemClock())


def test_a_writer_snapshot_restores_for_a_reader_and_reuses_stored_chunks(
    backend: base.Backend, repository: repo.Repository, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "source"
    make_source(source)
    first = backup.backup(repository, str(source))  # a reader's snapshot stored the data
    credential = repository.add_writer()
    writer = as_writer(backend, credential)
    outcome = backup.backup(writer, str(source), tags={"by": "agent"}, clock=Later())
    assert outcome.phase == "Completed" and outcome.parent is None
    assert outcome.stats.bytes_read == outcome.stats.bytes  # no parent: every file is read
    assert outcome.stats.chunks_new == 0 and outcome.stats.bytes_new == 0  # found in the index
    (item,) = [i for i in repository.snapshots() if i.id == outcome.snapshot]
    assert item.manifest.writer == credential.writer
    assert item.manifest.spec["tags"] == {"by": "agent"} and item.manifest.previous is None
    target = tmp_path / "restored"
    restore.restore(repository, item, target)
    assert tree(target) == tree(source)
    # and the reader's next run may take the writer's snapshot as its parent
    again = backup.backup(repository, str(source), clock=Later())
    assert again.parent == outcome.snapshot and again.parent != first.snapshot
    assert again.stats.reused_files == 2


def test_a_writer_cannot_open_what_it_stored(
    backend: base.Backend, repository: repo.Repository, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "source"
    make_source(source)
    credential = repository.add_writer()
    outcome = backup.backup(as_writer(backend, credential), str(source))
    assert credential.volume is not None
    secrets = [
        credential.signing_key.seed,
        credential.name_tag_key,
        credential.volume.chunk_id_key,
        credential.volume.index_key,
        credential.volume.mac_key,
        credential.volume.chunker_table[:32],
        credential.volume.chunker_prf * 2,
    ]
    identities = [agekeys.Identity.from_secret(s) for s in secrets]
    pack_names = [i.name for i in backend.list(packs.PREFIX)]
    assert pack_names
    keys = repository.volume_keys()
    for name in pack_names:  # the pack key, wrapped to the repository recipient
        with backend.get(name) as reader:
            prefix = reader.read(packs.KEYFILE_MAX)
        keyfile = prefix[: packs.keyfile_length(prefix, name)]
        pack_id = name.removeprefix(packs.PREFIX)
        for identity in identities:
            with pytest.raises(Exception, match="identit|keyfile|open"):
                packs.open_keyfile(keys.repository, pack_id, keys.epoch, keyfile, identity)
        assert packs.open_keyfile(keys.repository, pack_id, keys.epoch, keyfile, keys.identity)
    with pytest.raises(Exception, match="keyring"):  # nor can its volume keys read a chunk
        store.ChunkReader(backend, as_writer(backend, credential).volume_keys(), None)  # type: ignore[arg-type]
    for name in (backups.key_name(outcome.snapshot),):  # the snapshot's key, hence its tree
        with backend.get(name) as reader:
            key_object = reader.read()
        with pytest.raises(Exception, match="identit"):
            ageformat.decrypt_bytes(identities, None, key_object)
    # the marker's bytes appear nowhere in storage
    for info in backend.list(""):
        with backend.get(info.name) as reader:
            assert MARKER[:40] not in reader.read()


def test_credentials_carry_volume_secrets_and_old_ones_still_load(
    backend: base.Backend, repository: repo.Repository, tmp_path: pathlib.Path
) -> None:
    credential = repository.add_writer()
    text = credential.to_bytes()
    doc = json.loads(text)
    assert doc["format"] == "strongroom.io/writer-credential/v2"
    assert set(doc["volume"]) == {"recipient", "chunkerTable", "chunkerPrf", "chunkId", "index",
                                  "mac"}  # fmt: skip
    assert writers.Credential.from_bytes(text, "w.json") == credential
    assert "VolumeSecrets(...)" in repr(credential.volume) and "chunk" not in repr(credential)
    # the secrets are the epoch's: the writer's chunks dedupe against the readers'
    keys = repository.volume_keys()
    assert credential.volume is not None
    assert credential.volume.chunk_id_key == keys.chunk_id_key
    assert credential.volume.recipient == keys.recipient
    # a v1 credential (no volume secrets) still backs up resources, and says why not volumes
    del doc["volume"]
    doc["format"] = "strongroom.io/writer-credential/v1"
    old = writers.Credential.from_bytes(json.dumps(doc).encode(), "w1.json")
    assert old.volume is None
    source = tmp_path / "source"
    make_source(source)
    with pytest.raises(writers.CredentialError, match="predates volume data"):
        backup.backup(as_writer(backend, old), str(source))
    assert list(backend.list("v/l/")) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("chunkerTable", "AAAA"), ("chunkId", None), ("recipient", "age1nope"), ("mac", 7)],
)
def test_a_malformed_volume_section_is_refused(
    repository: repo.Repository, field: str, value: object
) -> None:
    doc = json.loads(repository.add_writer().to_bytes())
    doc["volume"][field] = value
    with pytest.raises(Exception, match="malformed|recipient"):
        writers.Credential.from_bytes(json.dumps(doc).encode(), "w.json")
