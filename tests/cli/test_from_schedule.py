"""``restore create --from-schedule``: the newest Completed backup labelled
``strongroom.io/schedule-name=<schedule>`` (PartiallyFailed too with
``--allow-partially-failed``), found in every location, as Velero restores from a schedule."""

from __future__ import annotations

import contextlib
import pathlib
import re
import time
from collections.abc import Iterator

import pytest
import yaml

from strongroom import clock
from strongroom.errors import ExitCode
from strongroom.kube import client as kube_client
from strongroom.sandbox import kubeconfig
from tests.cli.helpers import Cli, Outcome
from tests.cli.victim import Victim, victim_of
from tests.kube.faultproxy import Fault, FaultProxy

LABEL = "strongroom.io/schedule-name"


@pytest.fixture
def victim(request: pytest.FixtureRequest, cli: Cli, tmp_path: pathlib.Path) -> Iterator[Victim]:
    """Locations "loc" (holding backup "before", unlabelled) and "other"; namespace "app"
    with a Secret and a ConfigMap "marker" that names the backup about to be made."""
    with victim_of("filesystem", request, cli, tmp_path) as made:
        created = made.cli(
            "location", "create", "other", "--provider", "filesystem", "--bucket",
            str(tmp_path / "second"), "--recipient", made.identity.recipient().encode(),
        )  # fmt: skip
        assert created.code == ExitCode.OK, created.err
        with kube_client.Client.from_kubeconfig(made.kubeconfig) as kube:
            kube.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": "marker", "namespace": "app"},
                                       "data": {"made-by": "nobody"}})  # fmt: skip
        yield made


def backup(
    victim: Victim,
    name: str,
    schedule: str | None,
    *extra: str,
    through: pathlib.Path | None = None,
) -> Outcome:
    """Backup ``name`` of namespace "app", its marker naming it, labelled as made by
    ``schedule``; returns once the clock is past the second it started in, so that backups
    made one after the other never share a start time."""
    with kube_client.Client.from_kubeconfig(victim.kubeconfig) as kube:
        kube.patch("configmaps", "marker", {"data": {"made-by": name}}, "app")
    labels = ["--labels", f"{LABEL}={schedule}"] if schedule else []
    made = victim.cli(
        "--kubeconfig", str(through or victim.kubeconfig), "--identity", str(victim.identity_file),
        "backup", "create", name, "--include-namespaces", "app", *labels, *extra,
    )  # fmt: skip
    done = clock.SystemClock().now().replace(microsecond=0)
    while clock.SystemClock().now().replace(microsecond=0) <= done:
        time.sleep(0.05)
    return made


@contextlib.contextmanager
def failing_secret_lists(victim: Victim) -> Iterator[pathlib.Path]:
    """A kubeconfig through a proxy that refuses to list the Secrets of "app": a backup made
    through it ends PartiallyFailed, without the Secret."""
    server = yaml.safe_load(victim.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    proxy = FaultProxy(server).start()
    proxy.faults.append(Fault("GET", "/api/v1/namespaces/app/secrets", status=403, times=100))
    try:
        path = victim.tmp / "through-proxy.kubeconfig"
        kubeconfig.write(path, proxy.url, None)
        yield path
    finally:
        proxy.stop()


def restored_from(victim: Victim, target: str) -> str:
    """Which backup the marker restored into namespace ``target`` names."""
    with kube_client.Client.from_kubeconfig(victim.kubeconfig) as kube:
        return str(kube.get("configmaps", "marker", target)["data"]["made-by"])


def restore(victim: Victim, target: str, *args: str) -> Outcome:
    return victim.run(
        "restore", "create", target, "--namespace-mappings", f"app:{target}", *args
    )  # fmt: skip


def test_the_newest_completed_backup_of_the_schedule_is_restored(victim: Victim) -> None:
    for name, schedule in (
        ("nightly-c", "nightly"),
        ("nightly-a", "nightly"),  # the newest of the schedule; not the last by name
        ("nightly-db-z", "nightly-db"),  # another schedule, newer
        ("nightly-zz", None),  # named like one, but not labelled: no schedule's
    ):
        assert backup(victim, name, schedule).code == ExitCode.OK
    done = restore(victim, "back", "--from-schedule", "nightly")
    assert done.code == ExitCode.OK, done.err
    assert 'Backup "nightly-a" of schedule "nightly" (location loc' in done.out
    assert restored_from(victim, "back") == "nightly-a"
    described = victim.run("restore", "describe", "back", "-o", "json").json()
    assert (described["spec"]["backupName"], described["spec"]["scheduleName"]) == (
        "nightly-a",
        "nightly",
    )
    table = victim.run("restore", "describe", "back").out
    assert re.search(r"^Schedule:\s+nightly$", table, re.MULTILINE), table

    unnamed = victim.run(
        "restore", "create", "--from-schedule", "nightly-db", "--namespace-mappings", "app:db-back"
    )  # fmt: skip
    assert unnamed.code == ExitCode.OK, unnamed.err
    assert restored_from(victim, "db-back") == "nightly-db-z"
    names = [r["metadata"]["name"] for r in victim.run("restore", "get", "-o", "json").json()[
        "items"]]  # fmt: skip
    assert len(names) == 2 and "back" in names
    (default,) = [n for n in names if n != "back"]
    assert re.fullmatch(r"nightly-db-\d{14}", default), default

    by_name = restore(victim, "by-name", "--from-backup", "nightly-c")
    assert by_name.code == ExitCode.OK, by_name.err
    assert restored_from(victim, "by-name") == "nightly-c"
    spec = victim.run("restore", "describe", "by-name", "-o", "json").json()["spec"]
    assert "scheduleName" not in spec
    assert "Schedule:" not in victim.run("restore", "describe", "by-name").out


def test_partially_failed_backups_count_only_with_allow_partially_failed(victim: Victim) -> None:
    assert backup(victim, "nightly-done", "nightly").code == ExitCode.OK
    with failing_secret_lists(victim) as through:
        partial = backup(victim, "nightly-partial", "nightly", through=through)
    assert partial.code == ExitCode.PARTIALLY_FAILED, partial.err
    phase = victim.run("backup", "get", "nightly-partial", "-o", "json").json()["status"]["phase"]
    assert phase == "PartiallyFailed"

    plain = restore(victim, "plain", "--from-schedule", "nightly")
    assert plain.code == ExitCode.OK, plain.err
    assert restored_from(victim, "plain") == "nightly-done"

    allowed = restore(victim, "allowed", "--from-schedule", "nightly", "--allow-partially-failed")
    assert allowed.code == ExitCode.OK, allowed.err
    assert restored_from(victim, "allowed") == "nightly-partial"
    spec = victim.run("restore", "describe", "allowed", "-o", "json").json()["spec"]
    assert (spec["backupName"], spec["scheduleName"]) == ("nightly-partial", "nightly")

    assert victim.run("backup", "delete", "nightly-done", "--confirm").code == ExitCode.OK
    none_left = restore(victim, "none-left", "--from-schedule", "nightly")
    assert none_left.code == ExitCode.NOT_FOUND, none_left.err
    assert "1 PartiallyFailed" in none_left.err and "--allow-partially-failed" in none_left.err
    assert none_left.err.count("\n") == 1 and "Traceback" not in none_left.err


def test_expired_backups_are_passed_over(victim: Victim) -> None:
    assert backup(victim, "nightly-kept", "nightly").code == ExitCode.OK
    assert backup(victim, "nightly-short", "nightly", "--ttl", "1s").code == ExitCode.OK
    expiration = victim.run("backup", "get", "nightly-short", "-o", "json").json()["status"][
        "expiration"]  # fmt: skip
    while clock.SystemClock().now() < clock.parse_rfc3339(expiration):
        time.sleep(0.1)
    done = restore(victim, "back", "--from-schedule", "nightly")
    assert done.code == ExitCode.OK, done.err
    assert restored_from(victim, "back") == "nightly-kept"
    assert victim.run("backup", "delete", "nightly-kept", "--confirm").code == ExitCode.OK
    expired_only = restore(victim, "none", "--from-schedule", "nightly")
    assert expired_only.code == ExitCode.NOT_FOUND and "1 expired" in expired_only.err


def test_the_newest_in_any_location_and_storage_location_narrows(victim: Victim) -> None:
    assert backup(victim, "nightly-x", "nightly").code == ExitCode.OK
    newer = backup(victim, "nightly-y", "nightly", "--storage-location", "other")
    assert newer.code == ExitCode.OK, newer.err
    anywhere = restore(victim, "anywhere", "--from-schedule", "nightly")
    assert anywhere.code == ExitCode.OK, anywhere.err
    assert "(location other" in anywhere.out
    assert restored_from(victim, "anywhere") == "nightly-y"
    in_loc = restore(victim, "in-loc", "--from-schedule", "nightly", "--storage-location", "loc")
    assert in_loc.code == ExitCode.OK, in_loc.err
    assert restored_from(victim, "in-loc") == "nightly-x"


def test_no_backup_of_the_schedule_names_it_and_where_it_looked(victim: Victim) -> None:
    assert backup(victim, "weekly-1", "weekly").code == ExitCode.OK
    missing = restore(victim, "back", "--from-schedule", "nightly")
    assert missing.code == ExitCode.NOT_FOUND
    assert missing.err.startswith("error: no Completed backup of schedule 'nightly'")
    assert "searched: loc, other" in missing.err
    assert missing.err.count("\n") == 1 and "Traceback" not in missing.err
    only_other = restore(victim, "back", "--from-schedule", "weekly", "--storage-location", "other")
    assert only_other.code == ExitCode.NOT_FOUND and "searched: other)" in only_other.err
    assert victim.run("restore", "get", "-o", "json").json()["items"] == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--from-backup", "before", "--from-schedule", "nightly"], "not both"),
        ([], "give --from-backup BACKUP or --from-schedule SCHEDULE"),
        (["--from-backup", "before", "--allow-partially-failed"], "only to --from-schedule"),
        (["--allow-partially-failed"], "give --from-backup BACKUP or --from-schedule"),
        (["--from-schedule", "no such"], "not a schedule name"),
    ],
)
def test_the_source_flags_are_usage_errors(
    cli: Cli, tmp_path: pathlib.Path, args: list[str], needle: str
) -> None:
    refused = cli("restore", "create", "back", *args)  # no location needed: refused first
    assert refused.code == ExitCode.USAGE, refused.err
    assert needle in refused.err
    assert refused.err.count("\n") == 1 and "Traceback" not in refused.err
