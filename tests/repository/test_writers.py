"""Writers that cannot decrypt: they create backups readers can authenticate, and open none."""

from __future__ import annotations

import pytest

from strongroom import clock
from strongroom.crypto import ageformat, agekeys
from strongroom.repository import errors, writers
from tests.repository.conftest import Setup
from tests.repository.helpers import SECRET, read_all


def _write_as_writer(setup: Setup, credential: writers.Credential, name: str) -> None:
    target = writers.WriterRepository.open(setup.backend, credential, clock.SystemClock())
    writer = target.begin_backup(name)
    writer.put("archive", [SECRET])
    writer.commit({"includedNamespaces": ["app"]}, {"phase": "Completed", "startTimestamp": "2026"})


def test_a_writer_backup_is_read_and_authenticated_by_the_repository(setup: Setup) -> None:
    credential = setup.repo.add_writer()
    _write_as_writer(setup, credential, "from-ci")
    reopened = setup.reopen()
    assert read_all(reopened, "from-ci", "archive") == SECRET
    assert reopened.backup("from-ci").manifest.kind == "Backup"
    assert [w["id"] for w in reopened.writers()] == [credential.writer]


def test_the_credential_holds_nothing_that_decrypts(setup: Setup) -> None:
    credential = setup.repo.add_writer()
    _write_as_writer(setup, credential, "b")
    backup_id = setup.reopen().backup("b").manifest.backup
    key_object = (setup.folder / "k" / backup_id).read_bytes()
    parsed = writers.Credential.from_bytes(credential.to_bytes(), "writer.json")
    assert parsed == credential
    # The only secrets in it: a signing key and the name-tag key. Neither is an age identity
    # for the recipients the backup key is encrypted to.
    for secret in (credential.signing_key.seed, credential.name_tag_key):
        with pytest.raises(Exception, match="identit|identity"):
            ageformat.decrypt_bytes([agekeys.Identity.from_secret(secret)], None, key_object)


def test_a_tampered_or_unregistered_writer_record_fails_the_manifest(setup: Setup) -> None:
    credential = setup.repo.add_writer()
    _write_as_writer(setup, credential, "b")
    record = setup.folder / "w" / credential.writer
    data = bytearray(record.read_bytes())
    data[data.index(b"publicKey") + 15] ^= 0x01
    record.unlink()
    record.write_bytes(bytes(data))
    with pytest.raises(errors.IntegrityViolation, match="writer record"):
        setup.reopen().backup("b")
    record.unlink()
    with pytest.raises(errors.IntegrityViolation, match="not registered"):
        setup.reopen().backup("b")


def test_a_credential_for_another_repository_is_refused(setup: Setup) -> None:
    credential = setup.repo.add_writer()
    other = writers.Credential(
        "a" * 26, credential.writer, 1, credential.recipients, credential.signing_key, b"k" * 32
    )
    with pytest.raises(errors.IntegrityViolation, match="writer credential"):
        writers.WriterRepository.open(setup.backend, other, clock.SystemClock())


def test_a_signature_by_another_writer_key_fails(setup: Setup) -> None:
    honest = setup.repo.add_writer()
    thief = setup.repo.add_writer()
    forged = writers.Credential(
        honest.repository,
        honest.writer,
        honest.epoch,
        honest.recipients,
        thief.signing_key,
        honest.name_tag_key,
    )
    _write_as_writer(setup, forged, "forged")
    with pytest.raises(errors.IntegrityViolation, match="signature"):
        setup.reopen().backup("forged")
