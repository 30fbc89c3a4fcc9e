"""Creating, finding and unlocking repositories; writing and reading backups through them."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from strongroom import clock
from strongroom.crypto import agekeys, kdf
from strongroom.crypto.providers import base as provider_base
from strongroom.crypto.providers.passphrase import PassphraseProvider
from strongroom.errors import ExitCode
from strongroom.repository import errors, repo
from strongroom.storage import factory
from tests.repository.conftest import Setup
from tests.repository.helpers import SECRET, read_all, write_backup

FAST = kdf.Argon2Params(memory_kib=1024, iterations=1, lanes=1)


def test_round_trip_and_listing(setup: Setup) -> None:
    write_backup(setup.repo, "first")
    write_backup(setup.repo, "second", b"other")
    reopened = setup.reopen()
    assert read_all(reopened, "first", "archive") == SECRET * 100
    assert read_all(reopened, "second", "archive") == b"other"
    assert [b.name for b in reopened.backups()] == ["first", "second"]
    second = reopened.backup("second")
    assert second.manifest.previous is not None
    assert second.manifest.previous["backup"] == reopened.backup("first").id


def test_no_plaintext_or_names_at_rest(setup: Setup) -> None:
    write_backup(setup.repo, "nightly-shop")
    for path in setup.folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET not in data, path
            assert b"nightly-shop" not in data and b"nightly-shop" not in str(path).encode()


def test_header_is_found_and_reopened(setup: Setup) -> None:
    header = repo.read_header(setup.backend)
    assert header is not None and header.repository == setup.repo.id


def test_no_repository_at_an_empty_location(tmp_path: pathlib.Path) -> None:
    backend = factory.open_backend("filesystem", str(tmp_path / "empty"))
    assert repo.read_header(backend) is None
    with pytest.raises(errors.NoRepository):
        repo.Repository.open(backend, provider_base.Credentials(), clock.SystemClock())


def test_wrong_identity_is_locked_out(setup: Setup) -> None:
    stranger = provider_base.Credentials(identities=(agekeys.Identity.generate(),))
    with pytest.raises(errors.Locked) as info:
        repo.Repository.open(setup.backend, stranger, clock.SystemClock())
    assert info.value.exit_code == ExitCode.PERMISSION_DENIED


def test_passphrase_slot_opens_the_same_backups(setup: Setup) -> None:
    write_backup(setup.repo, "before")
    setup.repo.add_slot(PassphraseProvider.new(b"correct horse", FAST))
    by_passphrase = repo.Repository.open(
        setup.backend,
        provider_base.Credentials(passphrases=(b"correct horse",)),
        clock.SystemClock(),
    )
    assert read_all(by_passphrase, "before", "archive") == SECRET * 100
    with pytest.raises(errors.Locked):
        repo.Repository.open(
            setup.backend, provider_base.Credentials(passphrases=(b"wrong",)), clock.SystemClock()
        )


def test_name_taken_leaves_the_first_backup_alone(setup: Setup) -> None:
    write_backup(setup.repo, "dup")
    before = sorted(p for p in setup.folder.rglob("*") if p.is_file())
    with pytest.raises(errors.NameTaken) as info:
        setup.repo.begin_backup("dup")
    assert info.value.exit_code == ExitCode.ALREADY_EXISTS
    assert sorted(p for p in setup.folder.rglob("*") if p.is_file()) == before


def test_abort_leaves_nothing_behind(setup: Setup) -> None:
    before = sorted(p for p in setup.folder.rglob("*") if p.is_file())
    writer = setup.repo.begin_backup("doomed")
    writer.put("archive", [b"partial"])
    writer.abort()
    assert sorted(p for p in setup.folder.rglob("*") if p.is_file()) == before
    write_backup(setup.repo, "doomed")  # the name is free again


def test_uncommitted_backup_is_invisible_and_deletable(setup: Setup) -> None:
    writer = setup.repo.begin_backup("crashed")
    writer.put("archive", [b"partial"])  # no commit: as if the process died here
    assert setup.repo.backups() == []
    with pytest.raises(errors.IncompleteBackup, match="backup delete crashed"):
        setup.repo.backup("crashed")
    assert setup.repo.delete_backup("crashed") == []
    write_backup(setup.repo, "crashed")


def test_restore_outputs_live_beside_the_backup(setup: Setup) -> None:
    write_backup(setup.repo, "b1")
    backup = setup.repo.backup("b1")
    writer = setup.repo.begin_restore(backup, "r1")
    writer.put("log", [b"restored 3 items\n"])
    writer.commit({"backupName": "b1"}, {"phase": "Completed"})
    restore = setup.reopen().restore("r1")
    assert b"".join(restore.open("log")) == b"restored 3 items\n"
    assert [r.name for r in setup.repo.restores()] == ["r1"]
    with pytest.raises(errors.RestoreNotFound):
        setup.repo.restore("r2")


def test_deleting_a_backup_frees_the_names_of_its_restores(setup: Setup) -> None:
    write_backup(setup.repo, "b1")
    writer = setup.repo.begin_restore(setup.repo.backup("b1"), "r1")
    writer.commit({"backupName": "b1"}, {"phase": "Completed"})
    claims_before = {i.name for i in setup.backend.list("n/")}
    assert len(claims_before) == 2
    assert setup.repo.delete_backup("b1") == []
    assert list(setup.backend.list("n/")) == [], "both name claims went with the backup"
    with pytest.raises(errors.RestoreNotFound):
        setup.reopen().restore("r1")
    write_backup(setup.repo, "b1")
    again = setup.repo.begin_restore(setup.repo.backup("b1"), "r1")
    again.commit({"backupName": "b1"}, {"phase": "Completed"})


def test_a_restore_after_a_rotation_is_of_the_new_epoch(setup: Setup) -> None:
    write_backup(setup.repo, "old")
    setup.repo.rotate_repository_key(setup.credentials)
    writer = setup.repo.begin_restore(setup.repo.backup("old"), "later")
    writer.put("log", [b"restored\n"])
    writer.commit({"backupName": "old"}, {"phase": "Completed"})
    reopened = setup.reopen()
    assert reopened.restore("later").manifest.epoch == 2
    assert reopened.backup("old").manifest.epoch == 1
    assert reopened.audit(None)[0] == []


def test_a_backup_deleted_while_being_written_is_not_completed(setup: Setup) -> None:
    writer = setup.repo.begin_backup("racing")
    writer.put("archive", [b"half of it"])
    assert setup.reopen().delete_backup("racing") == []  # the deletion succeeds...
    with pytest.raises(errors.DeletedWhileWriting, match="racing"):
        writer.commit({}, {"phase": "Completed"})  # ...so the writer does not
    assert list(setup.backend.list(f"b/{writer.ref.backup}/")) == []
    assert [b.name for b in setup.reopen().backups()] == []


def test_a_deletion_that_begins_as_the_manifest_lands_wins(setup: Setup) -> None:
    writer = setup.repo.begin_backup("racing")
    writer.put("archive", [b"all of it"])
    deleter = setup.reopen()

    class Racing:
        """The storage, but a deletion runs right after the manifest is stored."""

        def __getattr__(self, attr: str) -> object:
            return getattr(setup.backend, attr)

        def put(self, name: str, data: Any) -> None:
            setup.backend.put(name, data)
            if name.endswith("/manifest"):
                deleter.delete_backup("racing")

    writer.backend = Racing()  # type: ignore[assignment]
    with pytest.raises(errors.DeletedWhileWriting):
        writer.commit({}, {"phase": "Completed"})
    assert list(setup.backend.list(f"b/{writer.ref.backup}/")) == []
    assert [b.name for b in setup.reopen().backups()] == []


def test_an_object_linked_just_before_a_failure_is_removed_by_abort(setup: Setup) -> None:
    from strongroom.storage import errors as storage_errors

    writer = setup.repo.begin_backup("unlucky")

    class FsyncFails:
        """Links the object, then fails as a directory fsync can."""

        def __getattr__(self, attr: str) -> object:
            return getattr(setup.backend, attr)

        def put(self, name: str, data: Any) -> None:
            setup.backend.put(name, data)
            raise storage_errors.StorageError(f"cannot put {name}: Input/output error")

    writer.backend = FsyncFails()  # type: ignore[assignment]
    with pytest.raises(storage_errors.StorageError):
        writer.put("archive", [b"stored, then the fsync failed"])
    writer.abort()
    assert list(setup.backend.list(f"b/{writer.ref.backup}/")) == []
    assert list(setup.backend.list("n/")) == [] and list(setup.backend.list("k/")) == []


def test_backup_delete_removes_the_debris_list_does_not_show(setup: Setup) -> None:
    writer = setup.repo.begin_backup("killed")
    writer.put("archive", [b"some"])
    folder = setup.folder / "b" / writer.ref.backup
    (folder / ".tmp-killed-mid-put").write_bytes(b"half of the log")  # the process died here
    assert setup.repo.delete_backup("killed") == []
    assert not folder.exists()
