"""``strongroom volume backup|list|restore|verify|delete|gc`` on real locations."""

from __future__ import annotations

import dataclasses
import io
import os
import pathlib
import random
import re
import stat

import pytest
from rich.console import Console

from strongroom import clock
from strongroom.cli import volume_progress
from strongroom.crypto import agekeys
from strongroom.crypto.providers import base as provider_base
from strongroom.engine.volumes import backup as snapshotting
from strongroom.errors import ExitCode
from strongroom.repository import repo, trust
from strongroom.repository.volumes import sessions
from strongroom.storage import factory
from tests.cli.helpers import Cli, Outcome
from tests.fixtures.seaweedfs import SeaweedFS

COLUMNS = ["ID", "TIME", "HOST", "PATH", "FILES", "SIZE", "NEW", "STATUS", "TAGS"]


@dataclasses.dataclass
class Volumes:
    cli: Cli
    bucket: pathlib.Path
    identity: agekeys.Identity
    tmp: pathlib.Path

    def backup(self, folder: pathlib.Path, *flags: str) -> str:
        done = self.cli("volume", "backup", str(folder), *flags)
        assert done.code == ExitCode.OK, done.err
        found = re.fullmatch(r"Snapshot (\w+) Completed: .*\n", done.out)
        assert found, done.out
        return found.group(1)

    def packs(self) -> set[str]:
        return {p.name for p in (self.bucket / "v" / "p").iterdir()}

    def repository(self) -> repo.Repository:
        store = factory.open_backend("filesystem", str(self.bucket), "", {})
        credentials = provider_base.Credentials(identities=(self.identity,))
        return repo.Repository.open(store, credentials, clock.SystemClock(), trust.Trust())


@pytest.fixture
def volumes(cli: Cli, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Volumes:
    identity = agekeys.Identity.generate()
    (tmp_path / "recovery.txt").write_text(identity.encode() + "\n")
    monkeypatch.setenv("STRONGROOM_IDENTITY", str(tmp_path / "recovery.txt"))
    bucket = tmp_path / "backups"
    recipient = identity.recipient().encode()
    where = ["--provider", "filesystem", "--bucket", str(bucket), "--recipient", recipient]
    assert cli("location", "create", "local", *where).code == ExitCode.OK
    return Volumes(cli, bucket, identity, tmp_path)


def _populate(root: pathlib.Path, seed: int = 1) -> pathlib.Path:
    rng = random.Random(seed)
    (root / "etc" / "app").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "etc" / "app" / "app.conf").write_text("listen = 8080\n" * 40)
    os.chmod(root / "etc" / "app" / "app.conf", 0o640)
    (root / "etc" / "secret").write_bytes(b"s3cr3t")
    os.chmod(root / "etc" / "secret", 0o400)
    (root / "empty").write_bytes(b"")
    (root / "data" / "big.bin").write_bytes(rng.randbytes(1 << 20))
    (root / "data" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(root / "data" / "run.sh", 0o755)
    os.symlink("etc/app/app.conf", root / "config-link")
    os.chmod(root / "etc", 0o750)
    return root


def _tree(root: pathlib.Path) -> dict[str, tuple[object, ...]]:
    """Type, mode, owner, mtime (not of folders) and content or target of every entry."""
    seen: dict[str, tuple[object, ...]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = pathlib.Path(folder) / name
            st = path.lstat()
            if stat.S_ISREG(st.st_mode):
                extra: object = path.read_bytes()
            elif stat.S_ISLNK(st.st_mode):
                extra = os.readlink(path)
            else:
                extra = None
            mtime = None if stat.S_ISDIR(st.st_mode) else st.st_mtime_ns
            seen[str(path.relative_to(root))] = (st.st_mode, st.st_uid, st.st_gid, mtime, extra)
    return seen


def _one_line(done: Outcome, code: int, needle: str) -> None:
    assert done.code == code, (done.code, done.err)
    assert done.err.startswith("error: ") and done.err.count("\n") == 1, done.err
    assert "Traceback" not in done.err and needle in done.err, done.err


def test_backup_list_restore_verify_delete_and_collect(volumes: Volumes) -> None:
    cli, source = volumes.cli, _populate(volumes.tmp / "source")
    first = volumes.backup(source, "--tag", "app=shop", "--tag", "tier=db")
    table = cli("volume", "list")
    assert table.code == ExitCode.OK and table.err == ""
    header, row = table.out.splitlines()
    assert header.split() == [
        "ID",
        "TIME",
        "HOST",
        "PATH",
        "FILES",
        "SIZE",
        "NEW",
        "STATUS",
        "TAGS",
    ]
    assert row.split()[0] == first and str(source) in row and "app=shop,tier=db" in row
    assert "Completed" in row and " 5 " in row  # regular files: not the symlink
    listed = cli("volume", "list", "-o", "json").json()
    assert listed["kind"] == "List" and len(listed["items"]) == 1
    item = listed["items"][0]
    assert item["kind"] == "VolumeSnapshot" and item["metadata"]["name"] == first
    assert item["metadata"]["labels"]["strongroom.io/storage-location"] == "local"
    assert item["spec"]["path"] == str(source) and item["spec"]["tags"] == {
        "app": "shop",
        "tier": "db",
    }
    assert item["status"]["phase"] == "Completed" and item["status"]["bytesNew"] > 0

    target = volumes.tmp / "target"
    restored = cli("volume", "restore", first, "--target", str(target))
    assert restored.code == ExitCode.OK, restored.err
    assert f"Snapshot {first} restored into {target}" in restored.out and restored.err == ""
    assert _tree(target) == _tree(source)

    again = cli("-o", "json", "volume", "backup", str(source))
    assert again.code == ExitCode.OK, again.err
    second = again.json()
    assert second["parent"] == first and second["phase"] == "Completed"
    assert second["stats"]["bytesNew"] == 0 and second["stats"]["bytesRead"] == 0
    assert cli("volume", "backup", str(source)).out.endswith("(0 B new).\n")

    verified = cli("volume", "verify", first, "--read-data")
    assert verified.code == ExitCode.OK and f"Snapshot {first} verified" in verified.out

    other = volumes.tmp / "other"
    other.mkdir()
    (other / "own.bin").write_bytes(random.Random(9).randbytes(300_000))
    before = volumes.packs()
    doomed = volumes.backup(other)
    own = volumes.packs() - before
    assert own
    deleted = cli("volume", "delete", doomed, "--confirm")
    assert deleted.code == ExitCode.OK and f"Snapshot {doomed} deleted" in deleted.out
    assert doomed not in cli("volume", "list").out
    collected = cli("volume", "gc")
    assert collected.code == ExitCode.OK, collected.err
    assert re.fullmatch(rf"Deleted {len(own)} packs? \([\d.]+ KiB\)\.\n", collected.out)
    assert volumes.packs() == before
    assert cli("volume", "verify", first, "--read-data").code == ExitCode.OK
    assert cli("volume", "gc").out == "Nothing to delete: every pack is in use.\n"


def test_latest_and_include(volumes: Volumes) -> None:
    cli, source = volumes.cli, _populate(volumes.tmp / "source")
    volumes.backup(source)
    (source / "etc" / "app" / "app.conf").write_text("listen = 9090\n")
    (source / "new.txt").write_text("added\n")
    newest = volumes.backup(source)
    latest = volumes.tmp / "latest"
    restored = cli("volume", "restore", "latest", "--target", str(latest))
    assert restored.code == ExitCode.OK and newest in restored.out
    assert _tree(latest) == _tree(source)
    part = volumes.tmp / "part"
    only = cli("volume", "restore", "latest", "--target", str(part), "--include", "etc/app")
    assert only.code == ExitCode.OK, only.err
    assert sorted(str(p.relative_to(part)) for p in part.rglob("*")) == [
        "etc",
        "etc/app",
        "etc/app/app.conf",
    ]
    assert (part / "etc" / "app" / "app.conf").read_text() == "listen = 9090\n"
    assert cli("volume", "verify", "latest").code == ExitCode.OK


def test_a_flipped_byte_in_a_pack_is_found_by_read_data_and_stops_a_restore(
    volumes: Volumes,
) -> None:
    cli, source = volumes.cli, volumes.tmp / "source"
    source.mkdir()
    (source / "victim.bin").write_bytes(random.Random(4).randbytes(600_000))
    snapshot = volumes.backup(source)
    pack = sorted(volumes.packs())[0]  # chunks go to one of two packs at random
    path = volumes.bucket / "v" / "p" / pack
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert cli("volume", "verify", snapshot).code == ExitCode.OK, "presence and sizes only"
    damaged = cli("volume", "verify", snapshot, "--read-data")
    assert damaged.code == ExitCode.INTEGRITY
    *problems, last = damaged.err.splitlines()
    assert problems and all(p.startswith(f"problem: v/p/{pack}: ") for p in problems)
    assert last.startswith(f"error: snapshot {snapshot} is damaged: v/p/{pack}: ")
    assert "Traceback" not in damaged.err
    target = volumes.tmp / "target"
    _one_line(
        cli("volume", "restore", snapshot, "--target", str(target)),
        ExitCode.INTEGRITY,
        f"v/p/{pack}",
    )
    assert not (target / "victim.bin").exists()


def test_bad_input_is_one_line_with_its_exit_code(volumes: Volumes) -> None:
    cli, tmp = volumes.cli, volumes.tmp
    assert cli("volume", "list").err == "No resources found.\n"
    _one_line(cli("volume", "restore", "latest", "--target", str(tmp / "t")), 5, "no volume")
    _one_line(cli("volume", "backup", str(tmp / "absent")), 5, "no such folder")
    (tmp / "file").write_text("x")
    _one_line(cli("volume", "backup", str(tmp / "file")), 2, "not a folder")
    _one_line(cli("volume", "backup", str(tmp / "file" / "below")), 5, "no such folder")
    source = _populate(tmp / "source")
    _one_line(cli("volume", "backup", str(source), "--tag", "novalue"), 2, "key=value")
    snapshot = volumes.backup(source)
    for command in (["restore", "nosuchid", "--target", str(tmp / "t")], ["verify", "nosuchid"]):
        _one_line(cli("volume", *command), 5, "no volume snapshot 'nosuchid' in location local")
    _one_line(cli("volume", "delete", "nosuchid", "--confirm"), 5, "'nosuchid'")
    _one_line(cli("volume", "delete", snapshot), 2, "add --confirm")
    _one_line(cli("volume", "verify", snapshot, "--storage-location", "elsewhere"), 5, "elsewhere")
    full = tmp / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    _one_line(cli("volume", "restore", snapshot, "--target", str(full)), 6, "--overwrite")
    assert sorted(p.name for p in full.iterdir()) == ["keep.txt"]
    _one_line(cli("volume", "restore", snapshot, "--target", str(tmp / "file")), 2, "not a folder")
    _one_line(
        cli("volume", "restore", snapshot, "--target", str(tmp / "t"), "--include", "/etc"),
        2,
        "include path",
    )
    overwritten = cli("volume", "restore", snapshot, "--target", str(full), "--overwrite")
    assert overwritten.code == ExitCode.OK, overwritten.err
    assert (full / "keep.txt").read_text() == "mine"
    assert (full / "etc" / "secret").read_bytes() == b"s3cr3t"
    blocked = tmp / "blocked"
    (blocked / "empty").mkdir(parents=True)  # a folder where the snapshot has a file
    partly = cli("volume", "restore", snapshot, "--target", str(blocked), "--overwrite")
    assert partly.code == ExitCode.PARTIALLY_FAILED
    warning, last = partly.err.splitlines()
    assert warning == "warning: empty: exists as a folder: not replaced"
    assert last == f"error: snapshot {snapshot} partially restored: 1 entry not restored as it was"
    assert (blocked / "data" / "big.bin").stat().st_size == 1 << 20


def test_a_file_not_backed_up_completely_is_exit_3_with_its_warning(volumes: Volumes) -> None:
    source = _populate(volumes.tmp / "source")
    try:
        os.setxattr(source / "empty", b"user.\xff", b"value")
    except OSError:
        pytest.skip("this filesystem has no user extended attributes")
    done = volumes.cli("volume", "backup", str(source))
    assert done.code == ExitCode.PARTIALLY_FAILED
    assert re.fullmatch(r"Snapshot \w+ PartiallyFailed: 5 files, .*\n", done.out)
    *warnings, last = done.err.splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: empty: ")
    assert last.startswith("error: snapshot ") and "1 file or folder not" in last
    listed = volumes.cli("volume", "list", "-o", "json").json()["items"]
    assert [i["status"]["phase"] for i in listed] == ["PartiallyFailed"]


def test_a_mark_waits_for_a_backup_running_elsewhere(volumes: Volumes) -> None:
    cli = volumes.cli
    kept, doomed = volumes.tmp / "kept", volumes.tmp / "doomed"
    for folder, seed in ((kept, 1), (doomed, 2)):
        folder.mkdir()
        (folder / "data.bin").write_bytes(random.Random(seed).randbytes(200_000))
    volumes.backup(kept)
    before = volumes.packs()
    snapshot = volumes.backup(doomed)
    own = volumes.packs() - before
    assert cli("volume", "delete", snapshot, "--confirm").code == ExitCode.OK
    repository = volumes.repository()
    running = sessions.Session(repository.backend, repository.volume_keys(), clock.SystemClock())
    running.start()
    waiting = cli("volume", "gc")
    assert waiting.code == ExitCode.OK, waiting.err
    assert "waits for volume backups" in waiting.out and volumes.packs() != before
    report = cli("volume", "gc", "-o", "json").json()
    assert report["storageLocation"] == "local" and report["epochs"][0]["waiting"]
    running.end()
    done = cli("volume", "gc")
    assert re.fullmatch(rf"Deleted {len(own)} packs? \([\d.]+ KiB\)\.\n", done.out), done.out
    assert volumes.packs() == before


def test_progress_shows_bytes_files_and_rate_on_a_terminal() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    with volume_progress.Meter("Backing up /data", console=console) as meter:
        meter.backup(snapshotting.Stats(files=3, bytes=5 << 20, bytes_read=1 << 20))
    shown = screen.getvalue()
    assert "Backing up /data" in shown and "5.0 MiB" in shown and "3 files" in shown
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    with volume_progress.Meter("Restoring", total=10 << 20, console=console) as meter:
        meter.update(5 << 20, 2)
    assert "5.0/10.0 MiB" in screen.getvalue()


def test_no_progress_off_a_terminal_and_json_stays_clean(
    volumes: Volumes, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _populate(volumes.tmp / "source")
    done = volumes.cli("-o", "json", "volume", "backup", str(source))
    assert done.err == "" and done.json()["stats"]["files"] == 5
    monkeypatch.setattr(volume_progress, "interactive", lambda: True)
    shown = volumes.cli("volume", "restore", "latest", "--target", str(volumes.tmp / "t"))
    assert shown.code == ExitCode.OK and shown.out.startswith("Snapshot ")


@pytest.mark.usefixtures("aws_profiles")
def test_a_folder_round_trips_through_seaweedfs(
    cli: Cli, seaweedfs: SeaweedFS, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = agekeys.Identity.generate()
    (tmp_path / "recovery.txt").write_text(identity.encode() + "\n")
    monkeypatch.setenv("STRONGROOM_IDENTITY", str(tmp_path / "recovery.txt"))
    config = ",".join(f"{k}={v}" for k, v in seaweedfs.config(profile="rw").items())
    flags = ["--provider", "s3", "--bucket", seaweedfs.create_bucket(), "--config", config]
    created = cli("location", "create", "s3", *flags, "--recipient", identity.recipient().encode())
    assert created.code == ExitCode.OK, created.err
    source = _populate(tmp_path / "source")
    done = cli("-o", "json", "volume", "backup", str(source))
    assert done.code == ExitCode.OK, done.err
    snapshot = done.json()["snapshot"]
    target = tmp_path / "target"
    assert cli("volume", "restore", snapshot, "--target", str(target)).code == ExitCode.OK
    assert _tree(target) == _tree(source)
    assert cli("volume", "verify", snapshot, "--read-data").code == ExitCode.OK
    assert cli("volume", "delete", snapshot, "--confirm").code == ExitCode.OK
    assert cli("volume", "gc").out.startswith("Deleted ")


def test_a_writer_credential_backs_up_a_folder_readers_restore(
    volumes: Volumes, tmp_path: pathlib.Path
) -> None:
    source = _populate(tmp_path / "source")
    credential = tmp_path / "writer.json"
    assert volumes.cli("key", "add", "--writer-output", str(credential)).code == ExitCode.OK
    snapshot = volumes.backup(source, "--writer-credential", str(credential))
    listed = volumes.cli("volume", "list", "-o", "json")
    assert listed.code == ExitCode.OK and snapshot in listed.out
    target = tmp_path / "restored"
    done = volumes.cli("volume", "restore", snapshot, "--target", str(target))
    assert done.code == ExitCode.OK, done.err
    for path in source.rglob("*"):
        if path.is_file():
            assert (target / path.relative_to(source)).read_bytes() == path.read_bytes()
    missing = volumes.cli("volume", "backup", str(source), "--writer-credential",
                          str(tmp_path / "absent.json"))  # fmt: skip
    assert missing.code != ExitCode.OK and "absent.json" in missing.err
    assert "Traceback" not in missing.err
