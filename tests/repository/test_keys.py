"""Keyslots after creation: adding, removing, rewrapping, and new repository-key epochs.

Each operation writes or deletes ``keys/`` objects only: backup objects stay byte-identical.
"""

from __future__ import annotations

import pathlib

import pytest

from strongroom import clock
from strongroom.crypto import agekeys, kdf
from strongroom.crypto.providers import base as provider_base
from strongroom.crypto.providers.age_x25519 import AgeX25519Provider
from strongroom.crypto.providers.passphrase import PassphraseProvider
from strongroom.errors import ExitCode
from strongroom.repository import errors, keyadmin, repo
from tests.repository.conftest import Setup
from tests.repository.helpers import SECRET, read_all, write_backup

FAST = kdf.Argon2Params(memory_kib=1024, iterations=1, lanes=1)


def _data_files(folder: pathlib.Path) -> dict[str, bytes]:
    """Every stored object but keyslots and epoch seals (which key rotation writes)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not str(p.relative_to(folder)).startswith(("keys/", "e/"))
    }


def _open(setup: Setup, credentials: provider_base.Credentials) -> repo.Repository:
    return repo.Repository.open(setup.backend, credentials, clock.SystemClock())


def test_a_slot_added_later_opens_old_backups(setup: Setup) -> None:
    write_backup(setup.repo, "old")
    late = agekeys.Identity.generate()
    before = _data_files(setup.folder)
    setup.repo.add_slot(AgeX25519Provider(late.recipient()), label="team lead")
    assert _data_files(setup.folder) == before
    by_late = _open(setup, provider_base.Credentials(identities=(late,)))
    assert read_all(by_late, "old", "archive") == SECRET * 100
    assert [s.label for s in by_late.slots()].count("team lead") == 1


def test_removing_a_slot_locks_its_holder_out(setup: Setup) -> None:
    other = agekeys.Identity.generate()
    slot = setup.repo.add_slot(AgeX25519Provider(other.recipient()))
    setup.repo.remove_slot(slot.slot)
    with pytest.raises(errors.Locked):
        _open(setup, provider_base.Credentials(identities=(other,)))


def test_the_last_slot_needs_force(setup: Setup) -> None:
    [only] = setup.repo.slots()
    with pytest.raises(keyadmin.LastSlot) as info:
        setup.repo.remove_slot(only.slot)
    assert info.value.exit_code == ExitCode.USAGE
    assert setup.repo.slots() == [only]
    with pytest.raises(keyadmin.SlotNotFound):
        setup.repo.remove_slot("nosuchslot")


def test_rotating_the_repository_key_keeps_every_backup_readable(setup: Setup) -> None:
    write_backup(setup.repo, "epoch-one", b"first")
    setup.repo.add_slot(PassphraseProvider.new(b"pass phrase", FAST))
    before = _data_files(setup.folder)
    old_slots = {s.slot for s in setup.repo.slots()}
    credentials = provider_base.Credentials(
        identities=(setup.recovery,), passphrases=(b"pass phrase",)
    )
    pairs = setup.repo.rotate_repository_key(credentials)
    assert {old.slot for old, _ in pairs} == old_slots
    assert not old_slots & {s.slot for s in setup.repo.slots()}
    assert _data_files(setup.folder) == before, "no backup object is rewritten"
    write_backup(setup.repo, "epoch-two", b"second")
    for creds in (
        provider_base.Credentials(identities=(setup.recovery,)),
        provider_base.Credentials(passphrases=(b"pass phrase",)),
    ):
        opened = _open(setup, creds)
        assert [e["epoch"] for e in opened.epochs()] == [1, 2]
        assert read_all(opened, "epoch-one", "archive") == b"first"
        assert read_all(opened, "epoch-two", "archive") == b"second"
        assert opened.backup("epoch-one").manifest.epoch == 1
        assert opened.backup("epoch-two").manifest.epoch == 2


def test_rotation_without_a_slot_secret_changes_nothing(setup: Setup) -> None:
    setup.repo.add_slot(PassphraseProvider.new(b"only I know", FAST))
    slots = setup.repo.slots()
    with pytest.raises(keyadmin.CannotRewrap, match="passphrase"):
        setup.repo.rotate_repository_key(provider_base.Credentials(identities=(setup.recovery,)))
    assert setup.repo.slots() == slots
    assert [e["epoch"] for e in setup.reopen().epochs()] == [1]


def test_rewrap_replaces_every_slot_with_the_same_keyring(setup: Setup) -> None:
    write_backup(setup.repo, "b")
    old = {s.slot for s in setup.repo.slots()}
    setup.repo.rewrap_slots(setup.credentials)
    assert not old & {s.slot for s in setup.repo.slots()}
    assert read_all(setup.reopen(), "b", "archive") == SECRET * 100
    assert [e["epoch"] for e in setup.reopen().epochs()] == [1]


def test_resealing_a_passphrase_slot_draws_a_new_salt(setup: Setup) -> None:
    setup.repo.add_slot(PassphraseProvider.new(b"pass phrase", FAST))
    salts = [s.fields["kdf"]["salt"] for s in setup.repo.slots() if s.type == "passphrase"]
    credentials = provider_base.Credentials(passphrases=(b"pass phrase",))
    for rotate in (setup.repo.rewrap_slots, setup.repo.rotate_repository_key):
        rotate(credentials)
        (slot,) = [s for s in setup.repo.slots() if s.type == "passphrase"]
        assert slot.fields["kdf"]["salt"] not in salts
        assert slot.fields["kdf"]["memoryKiB"] == FAST.memory_kib
        salts.append(slot.fields["kdf"]["salt"])
    opened = repo.Repository.open(setup.backend, credentials, clock.SystemClock())
    assert opened.opened_by.type == "passphrase" and opened.problems == []
