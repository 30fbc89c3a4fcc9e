"""Keys the bucket cannot forge, at the repository layer: what an untrusted slot can and cannot
influence even where a command chose to carry on (the CLI stops at the first reported slot;
these tests check the layer below does not rely on that)."""

from __future__ import annotations

import hmac
import json

import pytest

from strongroom import clock
from strongroom.crypto import ageformat, agekeys, kdf
from strongroom.crypto import errors as crypto_errors
from strongroom.crypto.providers import aws_kms
from strongroom.crypto.providers import base as provider_base
from strongroom.crypto.providers.age_x25519 import AgeX25519Provider
from strongroom.crypto.providers.passphrase import PassphraseProvider
from strongroom.repository import documents, keyslots, objects, repo, trust
from strongroom.repository import errors as repo_errors
from tests.fixtures import attacker as attack
from tests.fixtures import kms
from tests.repository.conftest import Setup
from tests.repository.helpers import write_backup

FAST = kdf.Argon2Params(memory_kib=256, iterations=1, lanes=1)


def _plant(setup: Setup, data: bytes) -> str:
    name = keyslots.PREFIX + json.loads(data)["slot"]
    attack.Attacker(setup.backend).write(name, data)
    return name


def _key_opens(setup: Setup, backup: str, identity: agekeys.Identity) -> bool:
    ids = [n for n in attack.Attacker(setup.backend).names("k/")]
    key = next(n for n in ids if n.endswith(backup))
    try:
        ageformat.decrypt_bytes([identity], None, attack.Attacker(setup.backend).read(key))
    except crypto_errors.CryptoError:
        return False
    return True


def test_an_untrusted_slot_gives_no_recipient_to_backups_writers_or_rotation(
    setup: Setup,
) -> None:
    thief = agekeys.Identity.generate()
    planted = _plant(setup, attack.junk_age_slot(setup.repo.id, thief.recipient()))
    opened = setup.reopen()
    assert any(planted in p for p in opened.problems)
    assert [s.slot for s in opened.trusted_slots()] == [setup.repo.trusted_slots()[0].slot]

    writer = write_backup(opened, "after")
    assert _key_opens(setup, writer.ref.backup, setup.recovery)
    assert not _key_opens(setup, writer.ref.backup, thief)
    credential = opened.add_writer()
    assert thief.recipient() not in credential.recipients
    pairs = opened.rotate_repository_key(setup.credentials)
    assert all(new.fields.get("recipient") != thief.recipient().encode() for _, new in pairs)
    assert planted in attack.Attacker(setup.backend).names(keyslots.PREFIX), "left for the user"


def test_an_expensive_planted_passphrase_slot_is_never_derived(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.repo.add_slot(PassphraseProvider.new(b"team passphrase", FAST))
    doc = json.loads(attack.junk_age_slot(setup.repo.id, setup.recovery.recipient()))
    del doc["recipient"]
    doc["type"] = "passphrase"
    doc["kdf"] = {
        "name": "argon2id",
        "salt": documents.b64(b"s" * 16),
        "memoryKiB": 1 << 20,
        "iterations": 16,
        "lanes": 1,
    }
    planted = _plant(setup, json.dumps(doc).encode())
    costs: list[int] = []
    real = kdf.argon2id

    def counting(secret: bytes, salt: bytes, *, memory_kib: int, **rest: int) -> bytes:
        costs.append(memory_kib)
        return real(secret, salt, memory_kib=memory_kib, **rest)

    monkeypatch.setattr(kdf, "argon2id", counting)
    both = provider_base.Credentials(
        identities=(setup.recovery,), passphrases=(b"team passphrase",)
    )
    opened = repo.Repository.open(setup.backend, both, clock.SystemClock())
    assert costs == [] and opened.opened_by.type == "age-x25519"
    only_passphrase = provider_base.Credentials(passphrases=(b"team passphrase",))
    opened = repo.Repository.open(setup.backend, only_passphrase, clock.SystemClock())
    assert costs == [FAST.memory_kib], "the cheap, real slot first; the planted one never"
    assert any(planted in p for p in opened.problems)


def test_slot_order_ignores_created(setup: Setup) -> None:
    slots = keyslots.load_all(setup.backend, setup.repo.id)[0]
    later = [keyslots.dataclasses.replace(s, created="2999-01-01T00:00:00Z") for s in slots]
    problems: list[str] = []
    first = trust.candidates(slots, setup.credentials, trust.Trust(), problems)
    second = trust.candidates(later, setup.credentials, trust.Trust(), problems)
    assert [s.slot for s, _ in first] == [s.slot for s, _ in second]


@pytest.fixture
def moto(moto_kms: kms.MotoKms, monkeypatch: pytest.MonkeyPatch) -> kms.MotoKms:
    kms.set_env(monkeypatch, moto_kms.env())
    return moto_kms


def test_kms_keys_come_from_the_client_not_the_bucket(setup: Setup, moto: kms.MotoKms) -> None:
    ours = aws_kms.AwsKmsProvider.from_uri(f"aws-kms://{moto.alias}")
    setup.repo.add_slot(ours)
    config_keys = (ours.uri,)
    # The attacker's slot: a keyring of their making under a key they control.
    theirs = attack.own_keyring(setup.repo.id, attack.Attacker(setup.backend).read("repository"))
    ident = attack.slot_id()
    other = aws_kms.AwsKmsProvider.from_uri(f"aws-kms://{moto.other_key_arn}")
    context = keyslots.context(setup.repo.id, ident, 1)
    doc = {
        "format": keyslots.FORMAT,
        "repository": setup.repo.id,
        "slot": ident,
        "type": "aws-kms",
        "created": "2099-01-01T00:00:00Z",
        "label": "",
        "epoch": 1,
        "uri": other.uri,
        "keyArn": moto.other_key_arn,
        "wrapped": documents.b64(other.wrap(theirs.to_bytes(), context)),
    }

    def signed(fields: dict[str, object]) -> bytes:
        body = documents.canonical(fields)
        mac = hmac.digest(theirs.subkey(1, "keyslot-mac"), body, "sha256")
        return documents.canonical({**fields, "mac": documents.b64(mac)})

    doc_bytes = signed(doc)
    planted = _plant(setup, doc_bytes)
    nothing = provider_base.Credentials()
    pinned = trust.Trust(setup.repo.pin, config_keys)
    opened = repo.Repository.open(setup.backend, nothing, clock.SystemClock(), pinned)
    assert opened.opened_by.type == "aws-kms" and any(planted in p for p in opened.problems)

    # The same blob in a slot naming the configured URI, and the other key's ARN as keyArn,
    # seen by a client with no pin yet (trust on first use): Decrypt names the configured
    # key, which refuses a blob made under another, so the attacker's keyring is never seen.
    for name in attack.Attacker(setup.backend).names(keyslots.PREFIX):
        attack.Attacker(setup.backend).delete(name)
    _plant(setup, signed({**doc, "uri": ours.uri}))
    first_use = trust.Trust(None, config_keys)
    with pytest.raises(repo_errors.Locked, match="access denied|IncorrectKey|another key"):
        repo.Repository.open(setup.backend, nothing, clock.SystemClock(), first_use)


def test_a_writer_made_key_object_no_epoch_opens_is_one_reported_backup(setup: Setup) -> None:
    write_backup(setup.repo, "real")
    bogus = documents.new_id()
    stranger = agekeys.Identity.generate()
    ref = objects.Ref(setup.repo.id, bogus, "key", 1)
    objects.put(setup.backend, f"k/{bogus}", ref, [stranger.recipient()], [b"x"])
    objects.put(setup.backend, f"b/{bogus}/manifest", ref, [stranger.recipient()], [b"{}"])
    opened = setup.reopen()
    assert [b.name for b in opened.backups()] == ["real"]
    assert len(opened.listing_problems) == 1 and bogus in opened.listing_problems[0]
    problems, _ = opened.audit(None)
    assert any(bogus in p for p in problems)


def test_v1_slots_need_the_upgrade(setup: Setup) -> None:
    ring = setup.repo.ring
    v1 = AgeX25519Provider(setup.recovery.recipient())
    ident = attack.slot_id()
    wrapped = v1.wrap(
        json.dumps({**json.loads(ring.to_bytes()), "format": "strongroom.io/keyring/v1"}).encode(),
        keyslots.context(setup.repo.id, ident),
    )
    doc = {
        "format": keyslots.FORMAT_V1,
        "repository": setup.repo.id,
        "slot": ident,
        "type": "age-x25519",
        "created": "2026-01-01T00:00:00Z",
        "label": "",
        "recipient": setup.recovery.recipient().encode(),
        "wrapped": documents.b64(wrapped),
    }
    attack.Attacker(setup.backend).restore(
        {keyslots.PREFIX + ident: documents.canonical(doc)}, keyslots.PREFIX
    )
    with pytest.raises(trust.NeedsUpgrade):
        setup.reopen()


def test_the_remembered_slot_is_tried_first(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    real = setup.repo.add_slot(PassphraseProvider.new(b"team passphrase", FAST))
    for _ in range(4):  # planted at the real slot's cost, their ids all sorting first
        doc = {
            "format": keyslots.FORMAT,
            "repository": setup.repo.id,
            "slot": "222222" + attack.slot_id()[6:],  # "2" sorts first in base32
            "type": "passphrase",
            "created": "2099-01-01T00:00:00Z",
            "label": "",
            "epoch": 1,
            "kdf": real.fields["kdf"],
            "wrapped": documents.b64(b"\0" * 60),
            "mac": documents.b64(b"\0" * 32),
        }
        _plant(setup, documents.canonical(doc))
    calls: list[int] = []
    derive = kdf.argon2id

    def counting(secret: bytes, salt: bytes, **params: int) -> bytes:
        calls.append(1)
        return derive(secret, salt, **params)

    monkeypatch.setattr(kdf, "argon2id", counting)
    only_passphrase = provider_base.Credentials(passphrases=(b"team passphrase",))
    first = repo.Repository.open(setup.backend, only_passphrase, clock.SystemClock())
    assert first.opened_by.slot == real.slot and len(calls) == 5, "every planted one first"
    calls.clear()
    remembered = trust.Trust(first.pin, None, first.opened_by.slot)
    again = repo.Repository.open(setup.backend, only_passphrase, clock.SystemClock(), remembered)
    assert again.opened_by.slot == real.slot and len(calls) == 1
    assert len(again.problems) == 4
