"""``strongroom location create|get|describe|delete`` on a folder and on a real S3 server."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from strongroom.crypto import agekeys
from strongroom.errors import ExitCode
from tests.cli.helpers import Cli
from tests.fixtures.ports import free_port
from tests.fixtures.seaweedfs import SeaweedFS

RECIPIENT = agekeys.Identity.generate().recipient().encode()


def _s3_flags(server: SeaweedFS, bucket: str, profile: str) -> list[str]:
    config = ",".join(f"{k}={v}" for k, v in server.config(profile=profile).items())
    return ["--provider", "s3", "--bucket", bucket, "--config", config, "--recipient", RECIPIENT]


def _fs(folder: pathlib.Path) -> list[str]:
    return ["--provider", "filesystem", "--bucket", str(folder), "--recipient", RECIPIENT]


def test_filesystem_location_lifecycle(cli: Cli, tmp_path: pathlib.Path) -> None:
    folder = tmp_path / "backups"
    created = cli("location", "create", "local", *_fs(folder))
    assert created.code == ExitCode.OK, created.err
    assert 'Storage location "local" created with a new repository' in created.out
    assert (folder / "repository").is_file()

    listed = cli("location", "get", "-o", "json")
    assert listed.code == ExitCode.OK
    doc = listed.json()
    assert doc["kind"] == "List"
    [item] = doc["items"]
    assert item["metadata"]["name"] == "local"
    assert item["spec"] == {
        "provider": "filesystem",
        "objectStorage": {"bucket": str(folder), "prefix": ""},
        "config": {},
        "default": True,  # the first location becomes the default
    }

    table = cli("location", "get")
    assert table.out.split()[:4] == ["NAME", "PROVIDER", "BUCKET/PREFIX", "DEFAULT"]
    assert "local" in table.out and str(folder) in table.out

    one = cli("-o", "yaml", "location", "get", "local")
    assert yaml.safe_load(one.out)["kind"] == "BackupStorageLocation"

    described = cli("location", "describe", "local")
    assert "Provider:" in described.out and "filesystem" in described.out

    deleted = cli("location", "delete", "local")
    assert deleted.code == ExitCode.OK
    assert cli("location", "get", "-o", "json").json()["items"] == []


def test_second_location_and_default_flag(cli: Cli, tmp_path: pathlib.Path) -> None:
    for name in ("one", "two"):
        flags = ["--default"] if name == "two" else []
        result = cli(
            "location", "create", name, *_fs(tmp_path / name), "--prefix", "/cluster-a/", *flags
        )
        assert result.code == ExitCode.OK, result.err
    items = {
        i["metadata"]["name"]: i["spec"]
        for i in cli("location", "get", "-o", "json").json()["items"]
    }
    assert items["one"]["default"] is False and items["two"]["default"] is True
    assert items["two"]["objectStorage"]["prefix"] == "cluster-a"


def test_name_already_taken_is_refused_and_config_kept(cli: Cli, tmp_path: pathlib.Path) -> None:
    args = ["location", "create", "dup", *_fs(tmp_path)]
    assert cli(*args).code == ExitCode.OK
    before = cli.config_path.read_bytes()
    again = cli(*args)
    assert again.code == ExitCode.ALREADY_EXISTS
    assert "'dup' already exists" in again.err
    assert cli.config_path.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["Bad_Name", "--provider", "filesystem", "--bucket", "/tmp/x"], "invalid location name"),
        (["ok", "--provider", "gcs", "--bucket", "b"], "'gcs' is not one of"),
        (["ok", "--provider", "filesystem"], "missing option '--bucket'"),
        (["ok", "--provider", "s3", "--bucket", "b", "--config", "region"], "expected key=value"),
        (["ok", "--provider", "s3", "--bucket", "b", "--config", "colour=red"], "colour"),
        (["ok", "--provider", "s3", "--bucket", "B!", "--config", "region=x"], "bucket"),
    ],
)
def test_invalid_flags_are_usage_errors(cli: Cli, args: list[str], needle: str) -> None:
    result = cli("location", "create", *args)
    assert result.code == ExitCode.USAGE, result.err
    assert needle in result.err
    assert not cli.config_path.exists(), "a refused create must not write the configuration"


def test_unwritable_folder_is_permission_denied(cli: Cli, tmp_path: pathlib.Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = cli("location", "create", "x", *_fs(blocker / "sub"))
    assert result.code == ExitCode.PERMISSION_DENIED, result.err
    assert str(blocker) in result.err
    assert result.err.count("\n") == 1
    assert not cli.config_path.exists()


def test_unknown_location_is_not_found(cli: Cli) -> None:
    for verb in ("describe", "delete", "get"):
        result = cli("location", verb, "nowhere")
        assert result.code == ExitCode.NOT_FOUND, (verb, result.err)
        assert "'nowhere' not found" in result.err


@pytest.mark.usefixtures("aws_profiles")
def test_s3_location_on_seaweedfs(cli: Cli, seaweedfs: SeaweedFS) -> None:
    bucket = seaweedfs.create_bucket()
    result = cli(
        "location", "create", "s3loc", *_s3_flags(seaweedfs, bucket, "rw"), "--prefix", "a/b"
    )
    assert result.code == ExitCode.OK, result.err
    spec = cli("location", "get", "s3loc", "-o", "json").json()["spec"]
    assert spec["objectStorage"] == {"bucket": bucket, "prefix": "a/b"}
    assert spec["config"]["s3Url"] == seaweedfs.endpoint


@pytest.mark.usefixtures("aws_profiles")
def test_s3_read_only_credentials_connect_but_cannot_create(
    cli: Cli, seaweedfs: SeaweedFS, tmp_path: pathlib.Path
) -> None:
    """Restore-only hosts hold read-only credentials: they connect to an existing repository."""
    bucket = seaweedfs.create_bucket()
    refused = cli("location", "create", "ro", *_s3_flags(seaweedfs, bucket, "ro"))
    assert refused.code == ExitCode.PERMISSION_DENIED, refused.err
    assert seaweedfs.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert cli("location", "create", "rw", *_s3_flags(seaweedfs, bucket, "rw")).code == 0
    flags = [f for f in _s3_flags(seaweedfs, bucket, "ro") if f not in ("--recipient", RECIPIENT)]
    connected = cli("location", "create", "ro", *flags)
    assert connected.code == ExitCode.OK, connected.err
    assert "connected to the existing repository" in connected.out


@pytest.mark.usefixtures("aws_profiles")
def test_s3_wrong_credentials(cli: Cli, seaweedfs: SeaweedFS) -> None:
    bucket = seaweedfs.create_bucket()
    result = cli("location", "create", "bad", *_s3_flags(seaweedfs, bucket, "wrong"))
    assert result.code == ExitCode.PERMISSION_DENIED, result.err
    assert bucket in result.err and result.err.count("\n") == 1
    assert not cli.config_path.exists()


@pytest.mark.usefixtures("aws_profiles")
def test_s3_missing_bucket(cli: Cli, seaweedfs: SeaweedFS) -> None:
    result = cli("location", "create", "gone", *_s3_flags(seaweedfs, "no-such-bucket-here", "rw"))
    assert result.code == ExitCode.NOT_FOUND, result.err
    assert "no-such-bucket-here" in result.err
    assert not cli.config_path.exists()


@pytest.mark.usefixtures("aws_profiles")
def test_s3_unreachable_endpoint(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    flags = ["--provider", "s3", "--bucket", "bucket-one", "--config", f"s3Url={url},profile=rw"]
    result = cli("location", "create", "down", *flags)
    assert result.code == ExitCode.UNREACHABLE, result.err
    assert url in result.err and result.err.count("\n") == 1
    assert not cli.config_path.exists()


def test_a_second_cluster_connects_to_the_existing_repository(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    folder = tmp_path / "shared"
    assert cli("location", "create", "a", *_fs(folder)).code == ExitCode.OK
    header = (folder / "repository").read_bytes()
    other = Cli(capsys, tmp_path / "cluster-b.yaml")
    connected = other(
        "location", "create", "b", "--provider", "filesystem", "--bucket", str(folder)
    )
    assert connected.code == ExitCode.OK, connected.err
    assert "connected to the existing repository" in connected.out
    assert (folder / "repository").read_bytes() == header
    ids = {
        c("location", "get", n, "-o", "json").json()["status"]["repository"]
        for c, n in ((cli, "a"), (other, "b"))
    }
    assert len(ids) == 1


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        ([], "a new repository needs a keyslot"),
        (["--recipient", "age1notarecipient"], "not an age recipient"),
        (["--passphrase-env", "STRONGROOM_TEST_UNSET_VARIABLE"], "unset or empty"),
    ],
)
def test_keyslot_flags_are_checked_before_anything_is_written(
    cli: Cli, tmp_path: pathlib.Path, flags: list[str], needle: str
) -> None:
    folder = tmp_path / "repo"
    result = cli(
        "location", "create", "x", "--provider", "filesystem", "--bucket", str(folder), *flags
    )
    assert result.code == ExitCode.USAGE, result.err
    assert needle in result.err
    assert not folder.exists() and not cli.config_path.exists()


def test_passphrase_only_repository_warns_about_recovery(
    cli: Cli, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPO_PASS", "correct horse battery staple")
    result = cli(
        "location", "create", "p", "--provider", "filesystem", "--bucket", str(tmp_path / "r"),
        "--passphrase-env", "REPO_PASS",
    )  # fmt: skip
    assert result.code == ExitCode.OK, result.err
    assert "no offline recovery key" in result.err
    assert (
        "correct horse"
        not in (tmp_path / "r" / "keys")
        .joinpath(next((tmp_path / "r" / "keys").iterdir()).name)
        .read_text()
    )
