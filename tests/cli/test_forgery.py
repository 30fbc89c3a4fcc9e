"""Keys the bucket cannot forge (docs/threat-model.md, "Attacks tried on the keys").

In every test the attacker only writes, replaces or deletes objects in the bucket, on the
filesystem and on SeaweedFS; the client then runs `location verify` and a backup. Each attack
must end in exit 4 naming the object, and nothing written afterwards may open with the
attacker's material.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator

import pytest

from strongroom import clock
from strongroom.crypto import agekeys, signing
from strongroom.crypto.providers.age_x25519 import AgeX25519Provider
from strongroom.errors import ExitCode
from strongroom.repository import backups, claims, integrity, keyring, keyslots, objects, writers
from tests.cli.helpers import Cli
from tests.cli.victim import Victim, assert_refused, opens_with, victim_of
from tests.fixtures import attacker as attack

seals_prefix = "e/"


@pytest.fixture(params=["filesystem", "s3"])
def victim(request: pytest.FixtureRequest, cli: Cli, tmp_path: pathlib.Path) -> Iterator[Victim]:
    with victim_of(request.param, request, cli, tmp_path) as made:
        yield made


@pytest.mark.parametrize("v1", [False, True], ids=["v2-slot", "v1-slot"])
def test_a_planted_age_slot_is_reported_and_never_a_recipient(victim: Victim, v1: bool) -> None:
    thief = agekeys.Identity.generate()
    data = attack.junk_age_slot(victim.attacker.repository, thief.recipient(), v1=v1)
    planted = keyslots.PREFIX + json.loads(data)["slot"]
    victim.attacker.write(planted, data)

    assert_refused(victim.verify(), planted)
    assert_refused(victim.backup("after"), planted)
    assert_refused(victim.run("key", "add", "--writer-output", str(victim.tmp / "w.json")), planted)
    assert not (victim.tmp / "w.json").exists()
    assert_refused(victim.run("key", "rotate", "--repository-key"), planted)
    listed = victim.run("key", "list", "-o", "json")
    assert listed.code == ExitCode.OK and planted in listed.err
    status = {i["id"]: i["trusted"] for i in listed.json()["items"]}
    assert status.get(planted.removeprefix(keyslots.PREFIX), False) is False

    removed = victim.run("key", "remove", planted.removeprefix(keyslots.PREFIX))
    assert removed.code == ExitCode.OK, removed.err
    key = victim.key_object("after")
    assert opens_with(victim.identity, key, victim.tmp)
    assert not opens_with(thief, key, victim.tmp)
    assert victim.verify().code == ExitCode.OK


def test_a_keyring_of_the_attackers_making_is_refused(victim: Victim) -> None:
    header = victim.attacker.read("repository")
    theirs = attack.own_keyring(victim.attacker.repository, header)
    planted, data = attack.slot_wrapping(theirs, victim.identity.recipient())
    victim.attacker.write(planted, data)
    # Whichever slot is tried first, the attacker's is reported: refused against the pin, or
    # failing its MAC under the victim's keyring.
    assert_refused(victim.verify(), planted)
    assert_refused(victim.backup("after"), planted)

    for name in victim.attacker.names(keyslots.PREFIX):
        if name != planted:
            victim.attacker.delete(name)  # only the attacker's slot is left
    assert_refused(victim.verify(), planted, "not the one this client pinned")
    assert_refused(victim.backup("after"), planted, "not the one this client pinned")
    assert victim.attacker.names("k/") == victim.attacker.names("k/")[:1]  # nothing new


def test_a_second_cluster_pinned_by_fingerprint_refuses_a_planted_keyring(
    victim: Victim, tmp_path: pathlib.Path
) -> None:
    shown = victim.run("location", "describe", "loc", "-o", "json").json()
    fingerprint = shown["status"]["keyringFingerprint"]
    header = victim.attacker.read("repository")
    theirs = attack.own_keyring(victim.attacker.repository, header)
    for name in victim.attacker.names(keyslots.PREFIX):
        victim.attacker.delete(name)
    planted, data = attack.slot_wrapping(theirs, victim.identity.recipient())
    victim.attacker.write(planted, data)

    second = Cli(victim.cli.capsys, tmp_path / "second" / "config.yaml")
    connected = second("location", "create", "loc", *victim.where, "--fingerprint", fingerprint)
    assert connected.code == ExitCode.OK, connected.err
    outcome = second("--identity", str(victim.identity_file), "backup", "get")
    assert_refused(outcome, planted, "not the one this client pinned")


def test_a_rotation_cannot_be_rolled_back(victim: Victim) -> None:
    old_slots = victim.attacker.snapshot(keyslots.PREFIX)
    rotated = victim.run("key", "rotate", "--repository-key")
    assert rotated.code == ExitCode.OK, rotated.err

    old_name = next(iter(old_slots))
    victim.attacker.write(old_name, old_slots[old_name])  # replayed beside the new ones
    assert_refused(victim.verify(), old_name, "stale")
    assert_refused(victim.backup("after"), old_name)

    victim.attacker.restore(old_slots, keyslots.PREFIX)  # only the old slot remains
    assert_refused(victim.verify(), "rolled back")
    assert_refused(victim.backup("after"), "rolled back")


def test_a_stolen_old_keyring_forges_nothing_after_a_rotation(victim: Victim) -> None:
    (old_name,) = victim.attacker.names(keyslots.PREFIX)
    slot = keyslots.parse(victim.attacker.read(old_name), old_name, victim.attacker.repository)
    stolen = keyring.Keyring.from_bytes(
        AgeX25519Provider(victim.identity.recipient(), victim.identity).unwrap(
            slot.wrapped, slot.context(victim.attacker.repository)
        ),
        victim.attacker.repository,
        old_name,
    )  # the thief copied the epoch-1 keyring before the rotation
    assert victim.run("key", "rotate", "--repository-key").code == ExitCode.OK

    # A writer registered by the thief in epoch 1, and a backup it signs.
    signer = signing.SigningKey.generate()
    writer = attack.slot_id()
    record = writers.record(
        stolen.repository, writer, signer.public(), "2099-01-01T00:00:00Z", 1,
        stolen.subkey(1, "writer-mac"),
    )  # fmt: skip
    victim.attacker.write(writers.PREFIX + writer, record)
    credential = writers.Credential(
        stolen.repository, writer, 1, (stolen.recipient_identity(1).recipient(),), signer,
        stolen.subkey(1, "name-tag"),
    )  # fmt: skip
    forged = writers.WriterRepository(victim.attacker.store, credential, clock.SystemClock())
    out = forged.begin_backup("forged")
    out.put("archive", [b""])
    out.commit({}, {"phase": "Completed", "startTimestamp": "2099-01-01T00:00:00Z"})

    verified = victim.verify()
    assert_refused(verified, "after a rotation closed it")
    assert_refused(victim.run("restore", "create", "--from-backup", "forged"), "closed")
    # The thief's epoch-2 keyring, sealed to the victim's public recipient, is not believed.
    forged_ring = stolen.rotated(clock.SystemClock(), "0" * 64)
    planted, data = attack.slot_wrapping(forged_ring, victim.identity.recipient())
    victim.attacker.write(planted, data)
    assert_refused(victim.verify(), planted)
    victim.attacker.delete(planted)


def test_a_stolen_old_keyring_mints_no_backup_or_tombstone(victim: Victim) -> None:
    (old_name,) = victim.attacker.names(keyslots.PREFIX)
    slot = keyslots.parse(victim.attacker.read(old_name), old_name, victim.attacker.repository)
    stolen = keyring.Keyring.from_bytes(
        AgeX25519Provider(victim.identity.recipient(), victim.identity).unwrap(
            slot.wrapped, slot.context(victim.attacker.repository)
        ),
        victim.attacker.repository,
        old_name,
    )
    (before,) = [n.removeprefix("k/") for n in victim.attacker.names("k/")]
    assert victim.run("key", "rotate", "--repository-key").code == ExitCode.OK
    assert victim.verify().code == ExitCode.OK

    # An epoch-1 backup MAC'd with the old manifest key, under a fresh name claim.
    forged = backups.new_writer(
        victim.attacker.store,
        kind="Backup",
        name="minted",
        ref=objects.Ref(stolen.repository, attack.slot_id(), "", 1),
        claim=claims.name(stolen.subkey(1, "name-tag"), "backup", "minted"),
        claim_ids={"backup": attack.slot_id()},
        mac_key=stolen.subkey(1, "manifest-mac"),
        identity=agekeys.Identity.generate(),
        key_recipients=[stolen.recipient_identity(1).recipient()],
    )
    forged.put("archive", [b""])
    forged.commit({}, {"phase": "Completed", "startTimestamp": "2099-01-01T00:00:00Z"})
    assert_refused(victim.verify(), "after a rotation closed it")
    victim.attacker.delete(forged.prefix + "manifest")

    # An epoch-1 tombstone that would make deleting the real backup look legitimate.
    tombstone = integrity.tombstone(
        stolen.repository, before, "2099-01-01T00:00:00Z", stolen.subkey(1, "manifest-mac"), 1
    )
    victim.attacker.write(integrity.TOMBSTONES + before, tombstone)
    for name in [f"k/{before}", *victim.attacker.names(f"b/{before}/")]:
        victim.attacker.delete(name)
    assert_refused(victim.verify(), integrity.TOMBSTONES + before, "after a rotation closed it")
    assert_refused(victim.backup("after"), integrity.TOMBSTONES + before)


@pytest.mark.parametrize("field", ["label", "recipient", "epoch", "created"])
def test_a_changed_field_of_a_real_slot_is_reported(victim: Victim, field: str) -> None:
    other = agekeys.Identity.generate()
    assert victim.run("key", "add", "--recipient", other.recipient().encode()).code == 0
    name = next(
        n
        for n in victim.attacker.names(keyslots.PREFIX)
        if other.recipient().encode().encode() in victim.attacker.read(n)
    )
    doc = json.loads(victim.attacker.read(name))
    doc[field] = {
        "label": "trusted",
        "recipient": agekeys.Identity.generate().recipient().encode(),
        "epoch": 7,
        "created": "1999-01-01T00:00:00Z",
    }[field]
    victim.attacker.write(name, json.dumps(doc).encode())
    assert_refused(victim.verify(), name)
    assert_refused(victim.backup("after"), name)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"junk",
        b"{" * 70_000,
        b'{"format":"strongroom.io/keyslot/v2","repository":"aaaaaaaaaaaaaaaaaaaaaaaaaa"}',
        None,  # an unknown type
        "cost",  # a passphrase slot beyond the reader's Argon2 limits
    ],
    ids=["empty", "junk", "oversized", "other-repository", "unknown-type", "argon2-cost"],
)
def test_junk_under_keys_is_reported_and_removable(victim: Victim, content: object) -> None:
    ident = attack.slot_id()
    name = keyslots.PREFIX + ident
    if content is None or content == "cost":
        doc = json.loads(
            attack.junk_age_slot(victim.attacker.repository, victim.identity.recipient())
        )
        doc["slot"] = ident
        if content is None:
            doc["type"] = "quantum-kms"
        else:
            doc["type"] = "passphrase"
            del doc["recipient"]
            doc["kdf"] = {"name": "argon2id", "salt": "AAAAAAAAAAAAAAAAAAAAAA==",
                          "memoryKiB": 1 << 30, "iterations": 99, "lanes": 1}  # fmt: skip
        data = json.dumps(doc).encode()
    else:
        assert isinstance(content, bytes)
        data = content
    victim.attacker.write(name, data)
    assert_refused(victim.verify(), name)
    assert_refused(victim.backup("after"), name)
    removed = victim.run("key", "remove", ident)
    assert removed.code == ExitCode.OK, removed.err
    assert victim.backup("after").code == ExitCode.OK
    assert victim.verify().code == ExitCode.OK


def test_a_replaced_header_is_found_before_its_features(victim: Victim) -> None:
    header = json.loads(victim.attacker.read("repository"))
    header["mandatoryFeatures"] = ["time-travel"]
    victim.attacker.write("repository", json.dumps(header).encode())
    outcome = victim.backup("after")
    assert_refused(outcome, "not the header the keyring commits to")
    assert "time-travel" not in outcome.err


@pytest.mark.parametrize("epochs", [1, 2])
def test_a_v1_repository_is_upgraded_and_stays_readable(victim: Victim, epochs: int) -> None:
    from tests.fixtures import v1repo

    if epochs == 2:  # rotated under v1: the upgrade seals epoch 1 over what it authenticated
        assert victim.run("key", "rotate", "--repository-key").code == ExitCode.OK
        for name in victim.attacker.names(seals_prefix):
            victim.attacker.delete(name)
    v1repo.downgrade(victim.attacker, victim.identity)
    stranger = agekeys.Identity.generate()
    foreign = json.loads(attack.junk_age_slot(victim.attacker.repository, stranger.recipient()))
    foreign.update(format=keyslots.FORMAT_V1)
    del foreign["epoch"], foreign["mac"]
    victim.attacker.write(keyslots.PREFIX + foreign["slot"], json.dumps(foreign).encode())

    needs = victim.run("backup", "get")
    assert needs.code == ExitCode.INVALID_CONFIG and "location upgrade" in needs.err
    refused = victim.run("location", "upgrade")
    assert refused.code == ExitCode.USAGE and foreign["slot"] in refused.err
    assert victim.attacker.names(keyslots.PREFIX), "nothing deleted when refusing"

    upgraded = victim.run("location", "upgrade", "--drop-unverified")
    assert upgraded.code == ExitCode.OK, upgraded.err
    assert "left out" in upgraded.out and "Keyring fingerprint" in upgraded.out
    assert len(victim.attacker.names(keyslots.PREFIX)) == 1
    assert len(victim.attacker.names(seals_prefix)) == epochs - 1
    assert victim.verify().code == ExitCode.OK
    listed = victim.run("backup", "get", "-o", "json")
    assert listed.code == ExitCode.OK, listed.err
    assert [b["metadata"]["name"] for b in listed.json()["items"]] == ["before"]
    key = victim.key_object("after")
    assert opens_with(victim.identity, key, victim.tmp) and not opens_with(
        stranger, key, victim.tmp
    )


def test_a_rotation_elsewhere_needs_a_pin_where_only_an_age_key_opens(
    victim: Victim, tmp_path: pathlib.Path
) -> None:
    second = Cli(victim.cli.capsys, tmp_path / "second" / "config.yaml")
    assert second("location", "create", "loc", *victim.where).code == ExitCode.OK
    as_second = ("--kubeconfig", str(victim.kubeconfig), "--identity", str(victim.identity_file))
    first_use = second(*as_second, "backup", "get")
    assert first_use.code == ExitCode.OK and "on first use" in first_use.err

    rotated = victim.run("key", "rotate", "--repository-key")
    assert rotated.code == ExitCode.OK, rotated.err
    fingerprint = rotated.out.split("--fingerprint ")[1].split()[0]
    unconfirmed = second(*as_second, "backup", "get")
    assert_refused(unconfirmed, "location pin", "newer than the epoch 1")
    assert fingerprint in unconfirmed.err
    pinned = second("location", "pin", "loc", "--fingerprint", fingerprint)
    assert pinned.code == ExitCode.OK, pinned.err
    after = second(*as_second, "backup", "create", "from-second", "--include-namespaces", "app")
    assert after.code == ExitCode.OK, after.err
    assert victim.verify().code == ExitCode.OK
