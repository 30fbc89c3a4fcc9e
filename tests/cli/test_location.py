"""``strongroom location create|get|describe|delete`` on a folder and on a real S3 server."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from strongroom.errors import ExitCode
from tests.cli.helpers import Cli
from tests.fixtures.ports import free_port
from tests.fixtures.seaweedfs import SeaweedFS


def _s3_flags(server: SeaweedFS, bucket: str, profile: str) -> list[str]:
    config = ",".join(f"{k}={v}" for k, v in server.config(profile=profile).items())
    return ["--provider", "s3", "--bucket", bucket, "--config", config]


@pytest.fixture
def aws_profiles(
    seaweedfs: SeaweedFS, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials come from the standard AWS chain: here, a shared credentials file."""
    creds = seaweedfs.write_credentials(tmp_path / "aws-credentials")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent-aws-config"))
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)


def test_filesystem_location_lifecycle(cli: Cli, tmp_path: pathlib.Path) -> None:
    folder = tmp_path / "backups"
    created = cli(
        "location", "create", "local", "--provider", "filesystem", "--bucket", str(folder)
    )
    assert created.code == ExitCode.OK, created.err
    assert 'Storage location "local" created.' in created.out

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
            "location", "create", name, "--provider", "filesystem",
            "--bucket", str(tmp_path / name), "--prefix", "/cluster-a/", *flags,
        )  # fmt: skip
        assert result.code == ExitCode.OK, result.err
    items = {
        i["metadata"]["name"]: i["spec"]
        for i in cli("location", "get", "-o", "json").json()["items"]
    }
    assert items["one"]["default"] is False and items["two"]["default"] is True
    assert items["two"]["objectStorage"]["prefix"] == "cluster-a"


def test_name_already_taken_is_refused_and_config_kept(cli: Cli, tmp_path: pathlib.Path) -> None:
    args = ["location", "create", "dup", "--provider", "filesystem", "--bucket", str(tmp_path)]
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
        (["ok", "--provider", "filesystem"], "Missing option '--bucket'"),
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
    result = cli(
        "location", "create", "x", "--provider", "filesystem", "--bucket", str(blocker / "sub")
    )
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
def test_s3_read_only_credentials_may_create_a_location(cli: Cli, seaweedfs: SeaweedFS) -> None:
    """Restore-only hosts hold read-only credentials: probing reads and lists, writes nothing."""
    bucket = seaweedfs.create_bucket()
    result = cli("location", "create", "ro", *_s3_flags(seaweedfs, bucket, "ro"))
    assert result.code == ExitCode.OK, result.err
    assert seaweedfs.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0


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
