"""Integrity answers are integrity answers: tampering is exit 4 naming the object, a crash is
"incomplete", and only an authentic tombstone makes a missing backup a deletion."""

from __future__ import annotations

import base64
import json
import pathlib
from collections.abc import Iterator

import pytest

from strongroom.errors import ExitCode
from tests.cli.helpers import Cli
from tests.cli.victim import Victim, assert_refused, victim_of


@pytest.fixture
def victim(request: pytest.FixtureRequest, cli: Cli, tmp_path: pathlib.Path) -> Iterator[Victim]:
    with victim_of("filesystem", request, cli, tmp_path) as made:
        yield made


def _ids(victim: Victim) -> list[str]:
    return [n.removeprefix("k/") for n in victim.attacker.names("k/")]


def _new_backup(victim: Victim, name: str) -> str:
    before = set(_ids(victim))
    made = victim.backup(name)
    assert made.code == ExitCode.OK, made.err
    (added,) = set(_ids(victim)) - before
    return added


def test_a_key_object_deleted_without_a_tombstone_is_tampering(victim: Victim) -> None:
    (backup_id,) = _ids(victim)
    victim.attacker.delete(f"k/{backup_id}")
    assert_refused(victim.run("backup", "verify", "before"), f"k/{backup_id}", "deletion record")
    assert_refused(victim.verify(), f"k/{backup_id}")


def test_a_deleted_backup_is_not_found(victim: Victim) -> None:
    assert victim.run("backup", "delete", "before", "--confirm").code == ExitCode.OK
    gone = victim.run("backup", "verify", "before")
    assert gone.code == ExitCode.NOT_FOUND, gone.err
    assert victim.verify().code == ExitCode.OK


def test_a_crash_before_the_key_object_is_incomplete(victim: Victim) -> None:
    from strongroom import clock
    from strongroom.crypto.providers import base as provider_base
    from strongroom.repository import repo

    opened = repo.Repository.open(
        victim.attacker.store,
        provider_base.Credentials(identities=(victim.identity,)),
        clock.SystemClock(),
    )
    writer = opened.begin_backup("crashed")  # the claim and the key object are stored
    victim.attacker.delete(f"k/{writer.ref.backup}")  # as if killed between the two
    outcome = victim.run("backup", "verify", "crashed")
    assert outcome.code == ExitCode.FAILURE and "incomplete" in outcome.err, outcome.err
    assert "backup delete crashed" in outcome.err
    assert victim.run("backup", "delete", "crashed", "--confirm").code == ExitCode.OK


def test_a_manifest_named_by_a_later_backup_cannot_go_quietly(victim: Victim) -> None:
    (first,) = _ids(victim)
    _new_backup(victim, "after")
    victim.attacker.delete(f"b/{first}/manifest")
    outcome = victim.run("backup", "verify", "before")
    assert_refused(outcome, "'after' names it as its predecessor")


def _flip_recipient_stanza(data: bytes) -> bytes:
    """Change one character of the first X25519 stanza's share (still canonical base64)."""
    lines = data.split(b"\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(b"-> X25519 "))
    share = bytearray(lines[index][len(b"-> X25519 ") :])
    share[10] = ord("A") if share[10] != ord("A") else ord("B")
    lines[index] = b"-> X25519 " + bytes(share)
    return b"\n".join(lines)


@pytest.mark.parametrize("target", ["key", "manifest"])
def test_a_flipped_recipient_stanza_is_tampering_for_a_keyring_holder(
    victim: Victim, target: str
) -> None:
    (backup_id,) = _ids(victim)
    name = f"k/{backup_id}" if target == "key" else f"b/{backup_id}/manifest"
    victim.attacker.write(name, _flip_recipient_stanza(victim.attacker.read(name)))
    assert_refused(victim.run("backup", "verify", "before"), name)


def test_a_malformed_name_claim_is_named(victim: Victim) -> None:
    (claim,) = victim.attacker.names("n/")
    (backup_id,) = _ids(victim)
    victim.attacker.write(claim, json.dumps({"bckup": backup_id}).encode())
    assert_refused(victim.run("backup", "describe", "before"), claim, "malformed")
    victim.attacker.write(claim, b"\xff\xfe")
    assert_refused(victim.run("backup", "get", "before"), claim)


def test_a_deleted_name_claim_is_reported(victim: Victim) -> None:
    (claim,) = victim.attacker.names("n/")
    victim.attacker.delete(claim)
    assert_refused(victim.run("backup", "get", "before"), "name claim is gone")
    assert_refused(victim.verify(), "name claim is gone")


def test_another_repository_id_in_the_header_is_not_blamed_on_a_keyslot(victim: Victim) -> None:
    header = json.loads(victim.attacker.read("repository"))
    header["repository"] = base64.b32encode(b"\x01" * 16).decode().rstrip("=").lower()
    victim.attacker.write("repository", json.dumps(header).encode())
    outcome = victim.run("backup", "get")
    assert_refused(outcome, "now holds repository")
    assert "keyslot" not in outcome.err


def test_a_full_state_folder_warns_and_blocks_nothing(
    victim: Victim, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from strongroom.cli import heads

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(heads, "remember", full)  # writing the state file fails
    made = victim.backup("while-full")
    assert made.code == ExitCode.OK, made.err
    assert "No space left on device" in made.err and "warning" in made.err
    listed = victim.run("backup", "get", "-o", "json")
    assert listed.code == ExitCode.OK
    assert {"before", "while-full"} == {b["metadata"]["name"] for b in listed.json()["items"]}


def test_restore_delete_frees_the_name_of_a_killed_restore(victim: Victim) -> None:
    from strongroom import clock
    from strongroom.crypto.providers import base as provider_base
    from strongroom.repository import repo

    opened = repo.Repository.open(
        victim.attacker.store,
        provider_base.Credentials(identities=(victim.identity,)),
        clock.SystemClock(),
    )
    killed = opened.begin_restore(opened.backup("before"), "move")  # claim taken, then killed
    killed.put("log", [b"restoring...\n"])
    again = victim.run("restore", "create", "move", "--from-backup", "before")
    assert again.code == ExitCode.ALREADY_EXISTS, again.err
    assert victim.run("restore", "delete", "move").code == ExitCode.USAGE  # needs --confirm
    deleted = victim.run("restore", "delete", "move", "--confirm")
    assert deleted.code == ExitCode.OK, deleted.err
    assert victim.attacker.names(f"b/{killed.ref.backup}/r/") == []
    redone = victim.run("restore", "create", "move", "--from-backup", "before")
    assert redone.code == ExitCode.OK, redone.err
    assert victim.run("restore", "delete", "move", "--confirm").code == ExitCode.OK
    gone = victim.run("restore", "get", "move")
    assert gone.code == ExitCode.NOT_FOUND
    assert victim.verify().code == ExitCode.OK


def test_debris_of_killed_runs_is_shown_and_removed(victim: Victim) -> None:
    import os
    import time

    from strongroom import clock
    from strongroom.crypto.providers import base as provider_base
    from strongroom.repository import repo

    opened = repo.Repository.open(
        victim.attacker.store,
        provider_base.Credentials(identities=(victim.identity,)),
        clock.SystemClock(),
    )
    killed = opened.begin_backup("killed")  # claim and key object stored, then the run died
    killed.put("archive", [b"half"])
    running = opened.begin_backup("running")  # a run still going: its objects are fresh
    restore = opened.begin_restore(opened.backup("before"), "killed-restore")
    restore.put("log", [b"restoring\n"])
    folder = pathlib.Path(victim.attacker.store.location)
    hidden = folder / "b" / killed.ref.backup / ".tmp-interrupted-put"
    hidden.write_bytes(b"half an object")
    old = time.time() - 7200
    for path in [*(folder / "b" / killed.ref.backup).iterdir(), folder / "k" / killed.ref.backup,
                 *(folder / "b").glob(f"*/r/{restore.ref.restore}/*")]:  # fmt: skip
        os.utime(path, (old, old))

    listed = victim.run("backup", "get")
    assert listed.code == ExitCode.OK, listed.err
    assert f"incomplete backup {killed.ref.backup}" in listed.err and "2h old" in listed.err
    assert f"incomplete backup {running.ref.backup}" in listed.err
    assert f"incomplete restore {restore.ref.restore}" in listed.err
    assert "backup delete --incomplete" in listed.err
    described = victim.run("location", "describe", "loc", "-o", "json").json()
    assert len(described["status"]["incomplete"]) == 3
    assert victim.verify().code == ExitCode.OK, "debris is not tampering"

    removed = victim.run("backup", "delete", "--incomplete", "--confirm")
    assert removed.code == ExitCode.OK, removed.err
    assert killed.ref.backup in removed.out and restore.ref.restore in removed.out
    assert running.ref.backup not in removed.out, "younger than an hour: may still run"
    assert not (folder / "b" / killed.ref.backup).exists()
    assert not (folder / "k" / killed.ref.backup).exists()
    again = victim.backup("killed")  # the name is free again
    assert again.code == ExitCode.OK, again.err
    assert victim.run("restore", "create", "killed-restore", "--from-backup", "before").code == 0
    left = victim.run("backup", "get").err
    assert killed.ref.backup not in left and running.ref.backup in left
