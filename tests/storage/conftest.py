"""Backends for the contract suite: every test taking ``backend`` runs once per provider.

The S3 backend is opened the way the CLI opens it (``factory.open_backend`` with a profile from
a shared credentials file), against the session's SeaweedFS server, in a bucket shared by the
session under a prefix of its own. The AWS environment is isolated per test: no host
credentials or config, and no instance-metadata lookups.
"""

from __future__ import annotations

import pathlib
import typing
import uuid

import pytest

from strongroom.storage import base, factory
from tests.fixtures import seaweedfs as seaweedfs_fixtures

_AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@pytest.fixture
def aws_isolated(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """No host AWS credentials, config or instance-metadata lookups; returns the credentials
    file (empty) that the chain reads."""
    for variable in _AWS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    credentials = tmp_path / "aws-credentials"
    credentials.write_text("")
    (tmp_path / "aws-config").write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return credentials


@pytest.fixture
def aws_env(seaweedfs: seaweedfs_fixtures.SeaweedFS, aws_isolated: pathlib.Path) -> pathlib.Path:
    """The isolated AWS chain, with profiles ``rw``, ``ro`` and ``wrong`` for the server."""
    return seaweedfs.write_credentials(aws_isolated)


@pytest.fixture(scope="session")
def s3_bucket(seaweedfs: seaweedfs_fixtures.SeaweedFS) -> str:
    """One bucket for the session; tests keep apart by prefix."""
    return seaweedfs.create_bucket()


@pytest.fixture
def s3_prefix() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


S3Opener = typing.Callable[..., base.Backend]


@pytest.fixture
def open_s3(
    aws_env: pathlib.Path,
    seaweedfs: seaweedfs_fixtures.SeaweedFS,
    s3_bucket: str,
    s3_prefix: str,
) -> S3Opener:
    """``open_s3(profile="rw", bucket=<session bucket>, prefix=<test prefix>, **config)``."""

    def opener(
        profile: str = "rw", bucket: str | None = None, prefix: str | None = None, **extra: str
    ) -> base.Backend:
        config = seaweedfs.config(profile) | extra
        where = s3_prefix if prefix is None else prefix
        return factory.open_backend("s3", bucket or s3_bucket, where, config)

    return opener


@pytest.fixture(params=["filesystem", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> base.Backend:
    """A fresh, empty backend of each provider, opened through the factory."""
    if request.param == "filesystem":
        return factory.open_backend("filesystem", str(tmp_path / "store"), "")
    opener: S3Opener = request.getfixturevalue("open_s3")
    return opener("rw")


def begin_s3_upload(request: pytest.FixtureRequest, name: str) -> None:
    """An unfinished multipart upload of object ``name`` (one part sent) under the test's S3
    prefix: what a put killed half-way leaves, invisible to ``list``."""
    client = request.getfixturevalue("seaweedfs").client()
    bucket, prefix = request.getfixturevalue("s3_bucket"), request.getfixturevalue("s3_prefix")
    key = f"{prefix}/{name}"
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)
    client.upload_part(Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"p")


def s3_uploads(request: pytest.FixtureRequest, name_prefix: str) -> int:
    """How many multipart uploads are unfinished under ``name_prefix`` of the test's prefix."""
    client = request.getfixturevalue("seaweedfs").client()
    bucket, prefix = request.getfixturevalue("s3_bucket"), request.getfixturevalue("s3_prefix")
    found = client.list_multipart_uploads(Bucket=bucket, Prefix=f"{prefix}/{name_prefix}")
    return len(found.get("Uploads", []))
