"""Whole backups removed, replaced or rolled back behind Strongroom's back are reported."""

from __future__ import annotations

import pathlib
import shutil

import pytest

from strongroom.repository import errors, integrity
from tests.repository.conftest import Setup
from tests.repository.helpers import write_backup


def _remove_behind_the_back(setup: Setup, name: str) -> None:
    backup_id = setup.repo.backup(name).manifest.backup
    shutil.rmtree(setup.folder / "b" / backup_id)
    (setup.folder / "k" / backup_id).unlink()


def test_a_clean_repository_has_no_problems(setup: Setup) -> None:
    for name in ("one", "two", "three"):
        write_backup(setup.repo, name)
    problems, head = setup.reopen().audit(None)
    assert problems == []
    assert head is not None and head.name == "three"


def test_a_backup_removed_from_the_middle_of_the_chain(setup: Setup) -> None:
    for name in ("one", "two", "three"):
        write_backup(setup.repo, name)
    _remove_behind_the_back(setup, "two")
    problems, _ = setup.reopen().audit(None)
    assert (
        len(problems) == 1 and "the one before 'three'" in problems[0] and "vanished" in problems[0]
    )


def test_a_deletion_through_strongroom_is_not_an_alarm(setup: Setup) -> None:
    for name in ("one", "two", "three"):
        write_backup(setup.repo, name)
    head = setup.repo.audit(None)[1]
    assert setup.repo.delete_backup("three") == []
    assert setup.repo.delete_backup("two") == []
    assert setup.reopen().audit(head) == ([], integrity.Head.of(setup.reopen().backup("one")))


def test_the_newest_backup_removed_entirely_is_caught_by_the_clients_head(setup: Setup) -> None:
    write_backup(setup.repo, "one")
    write_backup(setup.repo, "two")
    _, head = setup.repo.audit(None)
    _remove_behind_the_back(setup, "two")
    assert setup.reopen().audit(None)[0] == [], "nothing later points to it..."
    problems, _ = setup.reopen().audit(head)
    assert len(problems) == 1 and head is not None
    assert head.backup in problems[0] and "vanished" in problems[0]


def test_a_rolled_back_repository_is_caught(setup: Setup, tmp_path: pathlib.Path) -> None:
    write_backup(setup.repo, "one")
    snapshot = tmp_path / "snapshot"
    shutil.copytree(setup.folder, snapshot)
    write_backup(setup.repo, "two")
    _, head = setup.repo.audit(None)
    shutil.rmtree(setup.folder)
    shutil.copytree(snapshot, setup.folder)  # an older state of the bucket replayed
    problems, _ = setup.reopen().audit(head)
    assert problems and head is not None and head.backup in problems[0]


def test_a_replaced_predecessor_manifest(setup: Setup) -> None:
    """Someone holding the keys re-commits 'one' with another status: 'two' recorded the old one."""
    writer = write_backup(setup.repo, "one")
    write_backup(setup.repo, "two")
    (setup.folder / writer.prefix / "manifest").unlink()
    writer.committed = False
    writer.commit({"includedNamespaces": ["*"]}, {"phase": "Completed", "startTimestamp": "2026"})
    problems, _ = setup.reopen().audit(None)
    assert len(problems) == 1 and "'one'" in problems[0] and "replaced or replayed" in problems[0]


def test_a_forged_tombstone_is_a_violation(setup: Setup) -> None:
    write_backup(setup.repo, "one")
    backup_id = setup.repo.backup("one").manifest.backup
    (setup.folder / "d").mkdir()
    (setup.folder / "d" / backup_id).write_text(
        '{"format":"strongroom.io/tombstone/v1","repository":"x","backup":"'
        + backup_id
        + '","deleted":"now","epoch":1,"mac":"AAAA"}'
    )
    with pytest.raises(errors.IntegrityViolation, match="tombstone"):
        setup.reopen().audit(None)
