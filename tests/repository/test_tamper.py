"""Every way a storage writer can alter a backup is caught before plaintext is used (exit 4)."""

from __future__ import annotations

import pathlib
import shutil

import pytest

from strongroom.errors import ExitCode
from strongroom.repository import errors
from tests.repository.conftest import Setup
from tests.repository.helpers import read_all, write_backup


def _files(setup: Setup, backup: str) -> dict[str, pathlib.Path]:
    found = setup.repo.backup(backup)
    names = {r.type: r.name for r in found.manifest.objects}
    names["manifest"] = found.manifest_record.name
    return {t: setup.folder / n for t, n in names.items()}


def _rewrite(path: pathlib.Path, data: bytes) -> None:
    """What a storage writer does: replace the object (the backend itself never would)."""
    path.unlink()
    path.write_bytes(data)


def _flip(path: pathlib.Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at % len(data)] ^= 0x01
    _rewrite(path, bytes(data))


def _violation(setup: Setup, backup: str, type_: str = "archive") -> errors.IntegrityViolation:
    with pytest.raises(errors.IntegrityViolation) as info:
        read_all(setup.reopen(), backup, type_)
    assert info.value.exit_code == ExitCode.INTEGRITY
    return info.value


@pytest.mark.parametrize("type_", ["archive", "log", "manifest", "key"])
@pytest.mark.parametrize("where", [0, 40, 200, -1, -20])
def test_a_flipped_byte_anywhere(setup: Setup, type_: str, where: int) -> None:
    write_backup(setup.repo, "b")
    _flip(_files(setup, "b")[type_], where)
    _violation(setup, "b", type_ if type_ in ("archive", "log") else "archive")


@pytest.mark.parametrize("type_", ["archive", "manifest", "key"])
def test_truncation(setup: Setup, type_: str) -> None:
    write_backup(setup.repo, "b")
    path = _files(setup, "b")[type_]
    _rewrite(path, path.read_bytes()[:-1])
    _violation(setup, "b")


@pytest.mark.parametrize("type_", ["archive", "log"])
def test_deleted_object(setup: Setup, type_: str) -> None:
    write_backup(setup.repo, "b")
    _files(setup, "b")[type_].unlink()
    assert "missing" in str(_violation(setup, "b", type_))


def test_objects_swapped_between_backups(setup: Setup) -> None:
    write_backup(setup.repo, "one", b"first archive")
    write_backup(setup.repo, "two", b"second archive")
    one, two = _files(setup, "one"), _files(setup, "two")
    _rewrite(one["archive"], two["archive"].read_bytes())
    _violation(setup, "one")


def test_archive_and_log_swapped_within_a_backup(setup: Setup) -> None:
    write_backup(setup.repo, "b")
    files = _files(setup, "b")
    archive, log = files["archive"].read_bytes(), files["log"].read_bytes()
    _rewrite(files["archive"], log)
    _rewrite(files["log"], archive)
    _violation(setup, "b", "archive")
    _violation(setup, "b", "log")


def test_manifest_of_another_backup_substituted(setup: Setup) -> None:
    write_backup(setup.repo, "one")
    write_backup(setup.repo, "two")
    one, two = _files(setup, "one"), _files(setup, "two")
    _rewrite(one["manifest"], two["manifest"].read_bytes())
    with pytest.raises(errors.IntegrityViolation):
        setup.reopen().backup("one")


def test_whole_backup_directory_moved_under_another_id(setup: Setup) -> None:
    write_backup(setup.repo, "one")
    write_backup(setup.repo, "two")
    one, two = _files(setup, "one"), _files(setup, "two")
    shutil.rmtree(two["archive"].parent)
    shutil.copytree(one["archive"].parent, two["archive"].parent)
    with pytest.raises(errors.IntegrityViolation):
        setup.reopen().backup("two")


def test_tampered_keyslot_is_an_integrity_violation(setup: Setup) -> None:
    [slot] = (setup.folder / "keys").iterdir()
    _flip(slot, -30)
    with pytest.raises((errors.IntegrityViolation, errors.Locked)):
        setup.reopen()


def test_tampered_repository_header(setup: Setup) -> None:
    header = setup.folder / "repository"
    _rewrite(header, header.read_bytes().replace(b'"created":"', b'"created":"1'))
    with pytest.raises(errors.IntegrityViolation, match="not the header the keyring commits to"):
        setup.reopen()
