"""Restore grants: a node agent (writer credential) restores one snapshot of one backup with
what the grant holds, and nothing else opens with it."""

from __future__ import annotations

import dataclasses
import json
import pathlib

import pytest

from strongroom import clock
from strongroom import errors as base_errors
from strongroom.crypto import agekeys
from strongroom.engine.volumes import inbackup, restore, snapshots
from strongroom.repository import errors, repo, writers
from strongroom.repository.volumes import grants
from strongroom.storage import base
from tests.volumes.test_inbackup import files, take


def two_snapshots(
    backend: base.Backend, repository: repo.Repository, tmp_path: pathlib.Path
) -> tuple[snapshots.Held, snapshots.Held, pathlib.Path]:
    """Backup "b" with a snapshot of ``one`` (data of its own) and backup "c" with ``other``."""
    one, other = tmp_path / "one", tmp_path / "other"
    for root, seed in ((one, b"one "), (other, b"other ")):
        (root / "d").mkdir(parents=True)
        (root / "d" / "rows").write_bytes(seed * 300_000)
    held = []
    for name, folder in (("b", one), ("c", other)):
        writer = repository.begin_backup(name)
        part = take(backend, repository, writer, folder)
        entry = inbackup.attach(writer, part, repository.volume_keys, {"pvc": name})
        writer.commit({}, {"phase": "Completed", "volumeSnapshots": [entry]})
        (found,) = snapshots.in_backup(repository.backup(name))
        held.append(found)
    return held[0], held[1], one


def agent_keys(backend: base.Backend, repository: repo.Repository) -> writers.WriterRepository:
    return writers.WriterRepository.open(backend, repository.add_writer(), clock.SystemClock())


def test_an_agent_restores_the_granted_snapshot_and_only_it(
    backend: base.Backend, repository: repo.Repository, tmp_path: pathlib.Path
) -> None:
    held, other, source = two_snapshots(backend, repository, tmp_path)
    grant = grants.Grant.from_bytes(snapshots.grant(repository, held).to_bytes(), "secret")
    assert "AGE-SECRET" not in repr(grant) and len(grant.pack_keys) >= 1
    keys = agent_keys(backend, repository).volume_keys()
    target = tmp_path / "restored"
    target.mkdir()
    restore.restore_granted(backend, keys, grant, target, overwrite=True)
    assert files(target) == files(source)
    # the grant opens no other backup's tree, and no pack it does not name
    elsewhere = dataclasses.replace(
        grant, backup=other.item.manifest.backup,
        tree=other.item.manifest.record(other.tree_type),
    )  # fmt: skip
    with pytest.raises(base_errors.StrongroomError):
        restore.restore_granted(backend, keys, elsewhere, tmp_path / "no1")
    other_grant = snapshots.grant(repository, other)
    stolen = dataclasses.replace(other_grant, pack_keys=grant.pack_keys)
    assert set(other_grant.pack_keys).isdisjoint(grant.pack_keys)  # taken by separate runs
    with pytest.raises(errors.IntegrityViolation, match="not among the packs granted"):
        restore.restore_granted(backend, keys, stolen, tmp_path / "no2")
    # a wrong key for a granted pack fails its blobs, and writes no file with their content
    wrong = dataclasses.replace(grant, pack_keys={k: bytes(32) for k in grant.pack_keys})
    with pytest.raises(errors.IntegrityViolation, match="fails its tag"):
        restore.restore_granted(backend, keys, wrong, tmp_path / "no3")
    assert not (tmp_path / "no3" / "d" / "rows").exists()


def test_a_grant_from_the_cluster_is_checked(repository: repo.Repository) -> None:
    grant = grants.Grant(
        repository="r" * 26, backup="b" * 26, backup_epoch=1, snapshot="s" * 26, data_epoch=1,
        tree=grants.objects.Record("s/x/tree", "b/x/s/x/tree", 10, "0" * 64),
        identity=agekeys.Identity.generate(), pack_keys={"p" * 26: bytes(32)},
    )  # fmt: skip
    assert grants.Grant.from_bytes(grant.to_bytes(), "g").pack_keys == grant.pack_keys
    doc = json.loads(grant.to_bytes())
    for field, value in (("packs", {"p": "AAAA"}), ("identity", "AGE-SECRET-KEY-1NOPE"),
                         ("format", "other"), ("packs", []), ("tree", None)):  # fmt: skip
        bad = dict(doc, **{field: value})
        with pytest.raises(errors.IntegrityViolation):
            grants.Grant.from_bytes(json.dumps(bad).encode(), "g")
    with pytest.raises(errors.IntegrityViolation, match="too large"):
        grants.Grant.from_bytes(b" " * (grants.MAX_SIZE + 1), "g")
