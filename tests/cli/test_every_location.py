"""Every location at once: backups and restores are found wherever they are, as in Velero."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from strongroom.crypto import agekeys
from strongroom.errors import ExitCode
from tests.cli.helpers import Cli
from tests.cli.victim import Victim, victim_of


@pytest.fixture
def victim(request: pytest.FixtureRequest, cli: Cli, tmp_path: pathlib.Path) -> Iterator[Victim]:
    with victim_of("filesystem", request, cli, tmp_path) as made:
        second = tmp_path / "second"
        created = made.cli(
            "location", "create", "other", "--provider", "filesystem", "--bucket", str(second),
            "--recipient", made.identity.recipient().encode(),
        )  # fmt: skip
        assert created.code == ExitCode.OK, created.err
        yield made


def test_commands_find_backups_in_every_location(victim: Victim) -> None:
    made = victim.run(
        "backup", "create", "elsewhere", "--include-namespaces", "app", "--storage-location",
        "other",
    )  # fmt: skip
    assert made.code == ExitCode.OK, made.err
    listed = victim.run("backup", "get", "-o", "json")
    assert listed.code == ExitCode.OK, listed.err
    where = {
        b["metadata"]["name"]: b["metadata"]["labels"]["strongroom.io/storage-location"]
        for b in listed.json()["items"]
    }
    assert where == {"before": "loc", "elsewhere": "other"}
    for command in (["describe"], ["logs"], ["verify"]):
        found = victim.run("backup", *command, "elsewhere")
        assert found.code == ExitCode.OK, (command, found.err)
    restored = victim.run("restore", "create", "back", "--from-backup", "elsewhere")
    assert restored.code == ExitCode.OK, restored.err
    assert victim.run("restore", "describe", "back").code == ExitCode.OK
    assert [r["metadata"]["name"] for r in victim.run("restore", "get", "-o", "json").json()[
        "items"]] == ["back"]  # fmt: skip
    only_loc = victim.run("backup", "get", "--storage-location", "loc", "-o", "json").json()
    assert [b["metadata"]["name"] for b in only_loc["items"]] == ["before"]
    assert victim.run("backup", "delete", "elsewhere", "--confirm").code == ExitCode.OK
    gone = victim.run("backup", "describe", "elsewhere")
    assert gone.code == ExitCode.NOT_FOUND and "searched: loc, other" in gone.err


def test_a_name_in_two_locations_needs_storage_location(victim: Victim) -> None:
    twice = victim.run(
        "backup", "create", "before", "--include-namespaces", "app", "--storage-location", "other"
    )  # fmt: skip
    assert twice.code == ExitCode.OK, twice.err
    ambiguous = victim.run("backup", "describe", "before")
    assert ambiguous.code == ExitCode.USAGE and "loc, other" in ambiguous.err
    assert "--storage-location" in ambiguous.err
    chosen = victim.run("backup", "describe", "before", "--storage-location", "other")
    assert chosen.code == ExitCode.OK, chosen.err


def test_a_location_that_cannot_be_opened_is_a_warning(victim: Victim) -> None:
    dead = victim.cli(
        "location", "create", "dead", "--provider", "filesystem", "--bucket",
        str(victim.tmp / "locked"), "--recipient", agekeys.Identity.generate().recipient().encode(),
    )  # fmt: skip
    assert dead.code == ExitCode.OK, dead.err  # this client holds no key for it
    listed = victim.run("backup", "get")
    assert listed.code == ExitCode.OK, listed.err
    assert "location dead skipped" in listed.err and "before" in listed.out
    found = victim.run("backup", "describe", "before")
    assert found.code == ExitCode.OK and "location dead skipped" in found.err


def test_names_selectors_and_all_as_in_velero(victim: Victim) -> None:
    for name, where in (("b-one", "other"), ("b-two", "other")):
        made = victim.run(
            "backup", "create", name, "--include-namespaces", "app", "--storage-location", where
        )  # fmt: skip
        assert made.code == ExitCode.OK, made.err
    selected = victim.run("backup", "get", "-l", "strongroom.io/storage-location=other", "-o",
                          "json")  # fmt: skip
    assert sorted(b["metadata"]["name"] for b in selected.json()["items"]) == ["b-one", "b-two"]
    both = victim.run("backup", "describe", "before", "b-one")
    assert both.code == ExitCode.OK and "Name:" in both.out
    assert both.out.count("Storage location:") == 2
    mixed = victim.run("backup", "get", "before", "-l", "a=b")
    assert mixed.code == ExitCode.USAGE and "not both" in mixed.err
    bad = victim.run("backup", "get", "-l", "a in (")
    assert bad.code == ExitCode.USAGE

    deleted = victim.run("backup", "delete", "-l", "strongroom.io/storage-location=other",
                         "--confirm")  # fmt: skip
    assert deleted.code == ExitCode.OK, deleted.err
    assert "b-one deleted" in deleted.out and "b-two deleted" in deleted.out
    left = victim.run("backup", "get", "-o", "json").json()["items"]
    assert [b["metadata"]["name"] for b in left] == ["before"]

    for name in ("r-one", "r-two"):
        restored = victim.run("restore", "create", name, "--from-backup", "before")
        assert restored.code == ExitCode.OK, restored.err
    several = victim.run("restore", "describe", "r-one", "r-two")
    assert several.code == ExitCode.OK and several.out.count("Backup:") == 2
    assert victim.run("restore", "delete", "--all", "r-one", "--confirm").code == ExitCode.USAGE
    cleared = victim.run("restore", "delete", "--all", "--confirm")
    assert cleared.code == ExitCode.OK and "r-two deleted" in cleared.out
    assert victim.run("restore", "get", "-o", "json").json()["items"] == []
    assert victim.run("backup", "delete", "--all", "--confirm").code == ExitCode.OK
    assert victim.run("backup", "get", "-o", "json").json()["items"] == []


def test_a_selector_matches_the_labels_given_at_backup_create(victim: Victim) -> None:
    for name, tier in (("gold-one", "gold"), ("silver-one", "silver")):
        made = victim.run(
            "backup", "create", name, "--include-namespaces", "app", "--labels", f"tier={tier}"
        )  # fmt: skip
        assert made.code == ExitCode.OK, made.err
    gold = victim.run("backup", "get", "-l", "tier=gold", "-o", "json").json()["items"]
    assert [b["metadata"]["name"] for b in gold] == ["gold-one"]
    described = victim.run("backup", "describe", "-l", "tier in (gold,silver)")
    assert described.out.count("Storage location:") == 2
    assert victim.run("backup", "delete", "-l", "tier!=gold", "--confirm").code == ExitCode.OK
    left = victim.run("backup", "get", "-o", "json").json()["items"]
    assert sorted(b["metadata"]["name"] for b in left) == ["gold-one"]
