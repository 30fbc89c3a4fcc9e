"""The S3 backend's failure paths against a real SeaweedFS: denial, bad credentials, missing
bucket, dead endpoint, and create-only multipart uploads."""

from __future__ import annotations

import io
import time
import typing

import pytest

from strongroom import errors as root_errors
from strongroom.storage import errors, factory, s3, s3config
from tests.fixtures import ports
from tests.fixtures import seaweedfs as seaweedfs_fixtures
from tests.storage import conftest

MiB = 1024 * 1024


def test_read_only_identity_reads_but_cannot_write(open_s3: conftest.S3Opener) -> None:
    writer, reader = open_s3("rw"), open_s3("ro")
    writer.put("kept", b"data")
    reader.probe()
    assert reader.stat("kept").size == 4
    assert [i.name for i in reader.list()] == ["kept"]
    with pytest.raises(errors.StoragePermissionDenied, match="put fresh") as caught:
        reader.put("fresh", b"x")
    assert caught.value.exit_code == root_errors.ExitCode.PERMISSION_DENIED
    with pytest.raises(errors.StoragePermissionDenied):
        reader.put("fresh_large", io.BytesIO(b"y" * (9 * MiB)))
    with pytest.raises(errors.StoragePermissionDenied, match="delete kept"):
        reader.delete("kept")
    assert [i.name for i in writer.list()] == ["kept"]


def test_wrong_secret_is_permission_denied_and_never_echoed(
    open_s3: conftest.S3Opener, seaweedfs: seaweedfs_fixtures.SeaweedFS, aws_env: object
) -> None:
    backend = open_s3("wrong")
    for call in (backend.probe, lambda: backend.put("x", b"x"), lambda: list(backend.list())):
        with pytest.raises(errors.StoragePermissionDenied) as caught:
            call()
        assert caught.value.exit_code == root_errors.ExitCode.PERMISSION_DENIED
        message = str(caught.value)
        assert "\n" not in message
        assert seaweedfs.read_write.access_key not in message
        assert seaweedfs.read_write.secret_key not in message


def test_unknown_access_key_is_permission_denied(
    seaweedfs: seaweedfs_fixtures.SeaweedFS, s3_bucket: str, aws_env: object
) -> None:
    settings = s3config.parse(s3_bucket, "", seaweedfs.config())
    backend = s3.S3Backend(settings, credentials=s3.Credentials("AKNOBODY", "nothing"))
    with pytest.raises(errors.StoragePermissionDenied, match="access denied"):
        backend.probe()
    with pytest.raises(errors.StoragePermissionDenied, match="InvalidAccessKeyId"):
        list(backend.list())


def test_no_credentials_at_all_is_permission_denied(
    seaweedfs: seaweedfs_fixtures.SeaweedFS, s3_bucket: str, aws_env: object
) -> None:
    backend = factory.open_backend("s3", s3_bucket, "", seaweedfs.config())
    with pytest.raises(errors.StoragePermissionDenied, match="no usable S3 credentials"):
        backend.probe()


def test_missing_bucket_is_bucket_not_found(open_s3: conftest.S3Opener) -> None:
    backend = open_s3("rw", bucket="no-such-bucket-here")
    calls = (backend.probe, lambda: backend.put("x", b"x"), lambda: list(backend.list()))
    for call in calls:
        with pytest.raises(errors.BucketNotFound, match="no-such-bucket-here") as caught:
            call()
        assert caught.value.exit_code == root_errors.ExitCode.NOT_FOUND


def test_unreachable_endpoint_fails_fast(aws_env: object, s3_bucket: str) -> None:
    dead = f"http://127.0.0.1:{ports.free_port()}"
    backend = factory.open_backend("s3", s3_bucket, "", {"s3Url": dead, "profile": "rw"})
    started = time.monotonic()
    with pytest.raises(errors.StorageUnreachable, match=dead) as caught:
        factory.probe(backend)
    assert caught.value.exit_code == root_errors.ExitCode.UNREACHABLE
    assert time.monotonic() - started < 3
    started = time.monotonic()
    with pytest.raises(errors.StorageUnreachable):
        backend.put("x", b"x")  # retried a few times, still bounded
    assert time.monotonic() - started < 10


def test_unknown_profile_is_a_usage_error(
    seaweedfs: seaweedfs_fixtures.SeaweedFS, aws_env: object
) -> None:
    with pytest.raises(errors.StorageUsageError, match="nosuchprofile") as caught:
        factory.open_backend("s3", "bucket", "", seaweedfs.config("nosuchprofile"))
    assert caught.value.exit_code == root_errors.ExitCode.USAGE


def test_multipart_refuses_a_taken_name_before_uploading(open_s3: conftest.S3Opener) -> None:
    backend = open_s3("rw")
    backend.put("big", b"first")
    source = io.BytesIO(b"z" * (10 * MiB))
    with pytest.raises(errors.ObjectExists):
        backend.put("big", source)
    assert backend.stat("big").size == 5


class _RacingStream:
    """A stream that, halfway through, lets another writer take the name."""

    def __init__(self, size: int, on_half: typing.Callable[[], object]) -> None:
        self.source = io.BytesIO(b"r" * size)
        self.size = size
        self.on_half = on_half
        self.fired = False

    def read(self, size: int, /) -> bytes:
        if not self.fired and self.source.tell() >= self.size // 2:
            self.fired = True
            self.on_half()
        return self.source.read(size)


def test_multipart_completion_is_create_only_and_aborts(
    open_s3: conftest.S3Opener, seaweedfs: seaweedfs_fixtures.SeaweedFS, s3_bucket: str
) -> None:
    backend = open_s3("rw", prefix="race_prefix")
    client = seaweedfs.client()
    stream = _RacingStream(20 * MiB, lambda: backend.put("contested", b"winner"))
    with pytest.raises(errors.ObjectExists, match="contested"):
        backend.put("contested", stream)
    assert stream.fired
    with backend.get("contested") as reader:
        assert reader.read() == b"winner"
    uploads = client.list_multipart_uploads(Bucket=s3_bucket, Prefix="race_prefix/")
    assert not uploads.get("Uploads")


def test_prefix_scopes_every_name(
    open_s3: conftest.S3Opener, seaweedfs: seaweedfs_fixtures.SeaweedFS, s3_bucket: str
) -> None:
    one, two = open_s3("rw", prefix="/scope_a/"), open_s3("rw", prefix="scope_b")
    one.put("same", b"1")
    two.put("same", b"2")
    assert [i.name for i in one.list()] == ["same"]
    keys = seaweedfs.client().list_objects_v2(Bucket=s3_bucket, Prefix="scope_")["Contents"]
    assert sorted(k["Key"] for k in keys) == ["scope_a/same", "scope_b/same"]
    assert one.location == f"s3://{s3_bucket}/scope_a at {seaweedfs.endpoint}"


def test_keys_outside_the_naming_rules_are_not_listed(
    open_s3: conftest.S3Opener, seaweedfs: seaweedfs_fixtures.SeaweedFS, s3_bucket: str
) -> None:
    backend = open_s3("rw", prefix="foreign")
    backend.put("ours", b"")
    seaweedfs.client().put_object(Bucket=s3_bucket, Key="foreign/not ours.txt", Body=b"")
    assert [i.name for i in backend.list()] == ["ours"]
