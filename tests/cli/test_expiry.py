"""Expiry from the command line: EXPIRES says "expired" once a backup is past its ttl, and
``backup delete --expired`` shreds those (Velero's garbage collection, run when asked)."""

from __future__ import annotations

import dataclasses
import datetime
import io
import pathlib
import sys
import time
from collections.abc import Iterator

import pytest

from strongroom import clock
from strongroom.cli import backup_view
from strongroom.crypto import agekeys
from strongroom.engine.backup import expiry
from strongroom.errors import ExitCode
from strongroom.kube import client as kube_client
from strongroom.sandbox import server
from tests.cli.helpers import Cli, Outcome

NOW = datetime.datetime(2026, 11, 29, 12, 0, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("spec", "status", "shown"),
    [
        ({"ttl": "720h0m0s"}, {"expiration": "2026-12-29T11:59:59Z"}, "29d"),
        ({}, {"expiration": "2026-11-29T17:30:00Z"}, "5h"),
        ({}, {"expiration": "2026-11-29T12:00:30Z"}, "30s"),
        ({}, {"expiration": "2026-11-29T12:00:00Z"}, "expired"),
        ({}, {"expiration": "2026-11-29T11:59:59Z"}, "expired"),
        ({}, {"expiration": "2026-10-29T12:00:00Z"}, "expired"),  # not "31d", as abs() gave
        ({"ttl": "1h0m0s"}, {"startTimestamp": "2026-11-29T11:30:00Z"}, "30m"),  # start + ttl
        ({"ttl": "1s"}, {"startTimestamp": "2026-11-28T12:00:00Z"}, "expired"),
        ({}, {}, "n/a"),
        ({"ttl": "forever"}, {"startTimestamp": "2026-11-28T12:00:00Z"}, "n/a"),
        ({}, {"expiration": "yesterday"}, "n/a"),
    ],
)
def test_the_expires_column(spec: dict[str, str], status: dict[str, str], shown: str) -> None:
    assert backup_view.expires(spec, status, NOW) == shown
    assert expiry.has_expired(expiry.expiration(spec, status), NOW) == (shown == "expired")


@dataclasses.dataclass
class Env:
    kubeconfig: pathlib.Path
    identity_file: pathlib.Path
    cli: Cli

    def run(self, *args: str) -> Outcome:
        return self.cli(
            "--kubeconfig", str(self.kubeconfig), "--identity", str(self.identity_file), *args
        )

    def backup(self, name: str, *extra: str) -> dict[str, object]:
        made = self.run("backup", "create", name, "--include-namespaces", "shop", *extra)
        assert made.code == ExitCode.OK, made.err
        status: dict[str, object] = self.run("backup", "get", name, "-o", "json").json()["status"]
        return status

    def names(self) -> set[str]:
        listed = self.run("backup", "get", "-o", "json")
        assert listed.code == ExitCode.OK, listed.err
        return {i["metadata"]["name"] for i in listed.json()["items"]}

    def expires_column(self) -> dict[str, str]:
        table = self.run("backup", "get").out.splitlines()
        column = table[0].split().index("EXPIRES")
        return {line.split()[0]: line.split()[column] for line in table[1:]}


@pytest.fixture
def env(cli: Cli, tmp_path: pathlib.Path) -> Iterator[Env]:
    identity = agekeys.Identity.generate()
    identity_file = tmp_path / "recovery.txt"
    identity_file.write_text(identity.encode() + "\n")
    with server.Sandbox() as cluster:
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        with kube_client.Client.from_kubeconfig(kubeconfig) as kube:
            kube.create("namespaces", {"metadata": {"name": "shop"}})
            kube.create("configmaps", {"metadata": {"name": "web", "namespace": "shop"}})
        created = cli(
            "location", "create", "local", "--provider", "filesystem",
            "--bucket", str(tmp_path / "backups"), "--recipient", identity.recipient().encode(),
        )  # fmt: skip
        assert created.code == ExitCode.OK, created.err
        yield Env(kubeconfig, identity_file, cli)


def wait_past(status: dict[str, object]) -> str:
    """Sleep until the backup with this status has expired; its expiration."""
    expiration = str(status["expiration"])
    while clock.SystemClock().now() < clock.parse_rfc3339(expiration):
        time.sleep(0.1)
    return expiration


def test_an_expired_backup_shows_expired_and_is_deleted_with_expired(env: Env) -> None:
    short = env.backup("short", "--ttl", "1s")
    env.backup("long")
    expiration = wait_past(short)
    assert env.expires_column() == {"short": "expired", "long": "29d"}

    refused = env.run("backup", "delete", "--expired")
    assert refused.code == ExitCode.USAGE and "--confirm" in refused.err
    assert env.names() == {"short", "long"}

    deleted = env.run("backup", "delete", "--expired", "--confirm")
    assert deleted.code == ExitCode.OK, deleted.err
    assert deleted.out == f"Backup short deleted (expired {expiration}).\n"
    assert env.names() == {"long"}
    gone = env.run("backup", "get", "short")
    assert gone.code == ExitCode.NOT_FOUND
    verified = env.run("location", "verify")  # a tombstone first: no alarm
    assert verified.code == ExitCode.OK, verified.err

    again = env.run("backup", "delete", "--expired", "--confirm")
    assert (again.code, again.out) == (ExitCode.OK, "No backups have expired.\n")
    assert env.names() == {"long"}


def test_every_expired_backup_goes_one_line_each_and_names_still_work(env: Env) -> None:
    first = env.backup("first", "--ttl", "1s")
    second = env.backup("second", "--ttl", "1s")
    env.backup("kept", "--ttl", "1h")
    env.backup("named", "--ttl", "1h")
    wait_past(first)
    wait_past(second)
    deleted = env.run("backup", "delete", "--expired", "--confirm")
    assert deleted.code == ExitCode.OK, deleted.err
    lines = deleted.out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Backup first deleted (expired ")
    assert lines[1].startswith("Backup second deleted (expired ")
    assert env.names() == {"kept", "named"}
    by_name = env.run("backup", "delete", "named", "--confirm")
    assert (by_name.code, by_name.out) == (ExitCode.OK, "Backup named deleted.\n")
    assert env.names() == {"kept"}


class Terminal(io.StringIO):
    """Standard input typed at a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "left"), [("n\n", {"old", "new"}), ("y\n", {"new"})])
def test_on_a_terminal_it_asks_first_naming_them(
    env: Env, monkeypatch: pytest.MonkeyPatch, answer: str, left: set[str]
) -> None:
    old = env.backup("old", "--ttl", "1s")
    env.backup("new")
    wait_past(old)
    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    asked = env.run("backup", "delete", "--expired")
    assert "Delete 1 expired backups (old) for good?" in asked.out
    assert asked.code == (ExitCode.OK if left == {"new"} else ExitCode.FAILURE)
    assert env.names() == left


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["backup", "delete", "--confirm"], "give one of: backup NAMES, --all"),
        (["backup", "delete", "one", "--expired", "--confirm"], "give one of"),
        (["backup", "delete", "--expired", "--incomplete", "--confirm"], "give one of"),
    ],
)
def test_a_name_or_expired_exactly(env: Env, args: list[str], needle: str) -> None:
    env.backup("one", "--ttl", "1s")
    refused = env.run(*args)
    assert refused.code == ExitCode.USAGE and needle in refused.err
    assert refused.err.count("\n") == 1 and "Traceback" not in refused.err
    assert env.names() == {"one"}
