"""Recovery with the stock age CLI and nothing else; crypto-shredding one backup."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
from typing import Any, cast

import pytest

from strongroom import clock
from strongroom.repository import errors, repo
from strongroom.storage import base as storage_base
from strongroom.storage import errors as storage_errors
from tests.repository.conftest import Setup
from tests.repository.helpers import SECRET, read_all, write_backup

AGE = shutil.which("age") or "/usr/bin/age"


def _age_decrypt(identity_file: pathlib.Path, path: pathlib.Path) -> bytes:
    proc = subprocess.run(
        [AGE, "-d", "-i", str(identity_file), str(path)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def test_stock_age_recovers_a_backup_with_the_offline_identity(
    setup: Setup, tmp_path: pathlib.Path
) -> None:
    write_backup(setup.repo, "precious")
    backup = setup.repo.backup("precious")
    recovery = tmp_path / "recovery.txt"
    recovery.write_text(setup.recovery.encode() + "\n")
    backup_key = tmp_path / "backup.key"
    backup_key.write_bytes(_age_decrypt(recovery, setup.folder / "k" / backup.manifest.backup))
    archive = setup.folder / backup.manifest.record("archive").name
    assert _age_decrypt(backup_key, archive) == SECRET * 100
    manifest = _age_decrypt(backup_key, setup.folder / backup.manifest_record.name)
    assert b'"name":"precious"' in manifest


def test_deleting_a_backup_shreds_it_and_spares_the_others(setup: Setup) -> None:
    write_backup(setup.repo, "keep", b"kept")
    write_backup(setup.repo, "gone", b"gone")
    gone = setup.repo.backup("gone")
    key_path = setup.folder / "k" / gone.manifest.backup
    assert setup.repo.delete_backup("gone") == []
    assert not key_path.exists()
    with pytest.raises(errors.BackupNotFound):
        setup.reopen().backup("gone")
    assert read_all(setup.reopen(), "keep", "archive") == b"kept"
    assert [b.name for b in setup.reopen().backups()] == ["keep"]
    assert not [p for p in (setup.folder / "b" / gone.manifest.backup).rglob("*") if p.is_file()]


class _ObjectLock:
    """The real backend, with deletes under ``b/`` refused as an object-locked bucket does."""

    def __init__(self, inner: storage_base.Backend) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def delete(self, name: str) -> None:
        if name.startswith("b/"):
            raise storage_errors.StoragePermissionDenied(f"{name}: object is locked")
        self._inner.delete(name)


def test_shredding_holds_when_data_objects_cannot_be_deleted(setup: Setup) -> None:
    write_backup(setup.repo, "locked")
    write_backup(setup.repo, "other", b"other")
    backup = setup.repo.backup("locked")
    locked = repo.Repository.open(
        cast(storage_base.Backend, _ObjectLock(setup.backend)),
        setup.credentials,
        clock.SystemClock(),
    )
    failed = locked.delete_backup("locked")
    assert failed and all(name.startswith("b/") for name in failed)
    assert (setup.folder / backup.manifest.record("archive").name).exists()
    assert not (setup.folder / "k" / backup.manifest.backup).exists()
    with pytest.raises(errors.BackupNotFound):
        setup.reopen().backup("locked")
    assert [b.name for b in setup.reopen().backups()] == ["other"]
