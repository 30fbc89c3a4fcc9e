"""Object lock on a real S3 server (SeaweedFS): data retained, keys deletable, nothing rewritten.

Velero breaks on object-locked buckets because it rewrites its metadata (velero#8686).
Strongroom never overwrites, so it works on them; with ``objectLockMode``/``objectLockDays``
it puts retention on backup data (``b/``) while keys stay deletable, so a backup can still be
crypto-shredded, and a delete removes every version of a key, not just hides it.
"""

from __future__ import annotations

import uuid

import pytest

from strongroom.errors import ExitCode
from strongroom.storage import errors, factory
from tests.fixtures import seaweedfs as seaweedfs_fixtures
from tests.storage import conftest


@pytest.fixture
def locked_bucket(seaweedfs: seaweedfs_fixtures.SeaweedFS) -> str:
    name = f"locked-{uuid.uuid4().hex[:12]}"
    seaweedfs.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def _versions(seaweedfs: seaweedfs_fixtures.SeaweedFS, bucket: str, key: str) -> list[str]:
    listed = seaweedfs.client().list_object_versions(Bucket=bucket, Prefix=key)
    entries = [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]
    return [e["VersionId"] for e in entries if e["Key"] == key]


def test_retention_on_data_and_full_deletion_of_keys(
    open_s3: conftest.S3Opener, seaweedfs: seaweedfs_fixtures.SeaweedFS, locked_bucket: str
) -> None:
    backend = open_s3(
        bucket=locked_bucket, prefix="", objectLockMode="COMPLIANCE", objectLockDays="1"
    )
    backend.put("b/x/archive", b"ciphertext")
    backend.put("k/x", b"backup key")
    client = seaweedfs.client()
    retention = client.get_object_retention(Bucket=locked_bucket, Key="b/x/archive")["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    with pytest.raises(Exception, match="NoSuchObjectLockConfiguration|retention|Retention"):
        client.get_object_retention(Bucket=locked_bucket, Key="k/x")

    backend.delete("k/x")
    assert _versions(seaweedfs, locked_bucket, "k/x") == [], "every version of the key is gone"
    with pytest.raises(errors.StoragePermissionDenied) as info:
        backend.delete("b/x/archive")
    assert info.value.exit_code == ExitCode.PERMISSION_DENIED
    assert _versions(seaweedfs, locked_bucket, "b/x/archive"), "retained data stays"


def test_create_only_holds_on_a_locked_bucket(
    open_s3: conftest.S3Opener, locked_bucket: str
) -> None:
    backend = open_s3(
        bucket=locked_bucket, prefix="", objectLockMode="GOVERNANCE", objectLockDays="1"
    )
    backend.put("b/y", b"first")
    with pytest.raises(errors.ObjectExists):
        backend.put("b/y", b"second")
    with backend.get("b/y") as reader:
        assert reader.read() == b"first"


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"objectLockMode": "FOREVER", "objectLockDays": "1"}, "objectLockMode"),
        ({"objectLockMode": "COMPLIANCE"}, "objectLockDays"),
        ({"objectLockMode": "COMPLIANCE", "objectLockDays": "0"}, "objectLockDays"),
        (
            {"objectLockMode": "COMPLIANCE", "objectLockDays": "1", "objectLockPrefix": "../"},
            "objectLockPrefix",
        ),
    ],
)
def test_object_lock_settings_are_checked(config: dict[str, str], needle: str) -> None:
    with pytest.raises(errors.StorageUsageError, match=needle):
        factory.open_backend("s3", "bucket-name", "", config)
