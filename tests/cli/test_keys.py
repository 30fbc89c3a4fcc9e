"""``strongroom key list|add|remove|rotate``: keyslots from the command line."""

from __future__ import annotations

import pathlib

import pytest

from strongroom.crypto import agekeys
from strongroom.errors import ExitCode
from tests.cli.helpers import Cli


@pytest.fixture
def located(cli: Cli, tmp_path: pathlib.Path) -> tuple[Cli, pathlib.Path, pathlib.Path]:
    identity = agekeys.Identity.generate()
    identity_file = tmp_path / "id.txt"
    identity_file.write_text(identity.encode() + "\n")
    folder = tmp_path / "repo"
    made = cli(
        "location", "create", "loc", "--provider", "filesystem", "--bucket", str(folder),
        "--recipient", identity.recipient().encode(),
    )  # fmt: skip
    assert made.code == ExitCode.OK, made.err
    return cli, identity_file, folder


def test_list_add_remove(
    located: tuple[Cli, pathlib.Path, pathlib.Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, identity_file, _ = located
    listed = cli("--identity", str(identity_file), "key", "list", "-o", "json").json()
    assert [i["type"] for i in listed["items"]] == ["age-x25519"]
    assert listed["items"][0]["uri"].startswith("age1")
    assert listed["epochs"][0]["epoch"] == 1
    monkeypatch.setenv("TEAM_PASS", "a long team passphrase")
    added = cli(
        "--identity",
        str(identity_file),
        "key",
        "add",
        "--passphrase-env",
        "TEAM_PASS",
        "--label",
        "team",
    )
    assert added.code == ExitCode.OK, added.err
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", "a long team passphrase")
    by_passphrase = cli("key", "list", "-o", "json").json()["items"]
    assert sorted(i["type"] for i in by_passphrase) == ["age-x25519", "passphrase"]
    assert "a long team passphrase" not in str(by_passphrase)
    age_slot = next(i["id"] for i in by_passphrase if i["type"] == "age-x25519")
    removed = cli("key", "remove", age_slot)
    assert removed.code == ExitCode.OK
    assert "no offline recovery key" in removed.err
    monkeypatch.delenv("STRONGROOM_PASSPHRASE")
    locked = cli("--identity", str(identity_file), "key", "list")
    assert locked.code == ExitCode.PERMISSION_DENIED


def test_last_slot_needs_force(located: tuple[Cli, pathlib.Path, pathlib.Path]) -> None:
    cli, identity_file, _ = located
    [slot] = cli("--identity", str(identity_file), "key", "list", "-o", "json").json()["items"]
    refused = cli("--identity", str(identity_file), "key", "remove", slot["id"])
    assert refused.code == ExitCode.USAGE and "--force" in refused.err
    unknown = cli("--identity", str(identity_file), "key", "remove", "nosuchslot")
    assert unknown.code == ExitCode.NOT_FOUND


def test_rotate_the_repository_key(located: tuple[Cli, pathlib.Path, pathlib.Path]) -> None:
    cli, identity_file, _ = located
    rotated = cli("--identity", str(identity_file), "key", "rotate", "--repository-key")
    assert rotated.code == ExitCode.OK, rotated.err
    assert "epoch 2" in rotated.out
    epochs = cli("--identity", str(identity_file), "key", "list", "-o", "json").json()["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    resealed = cli("--identity", str(identity_file), "key", "rotate")
    assert resealed.code == ExitCode.OK and "resealed" in resealed.out


def test_key_add_needs_a_key(located: tuple[Cli, pathlib.Path, pathlib.Path]) -> None:
    cli, identity_file, _ = located
    assert cli("--identity", str(identity_file), "key", "add").code == ExitCode.USAGE
    bad = cli("--identity", str(identity_file), "key", "add", "--kms", "nope://x")
    assert bad.code == ExitCode.USAGE and "nope" in bad.err
