"""Opening backends from a location's provider, bucket, prefix and Velero-style config."""

from __future__ import annotations

import pathlib

import hypothesis
import pytest
from hypothesis import strategies as st

from strongroom import errors as root_errors
from strongroom.storage import errors, factory, retry, s3config


def test_unknown_provider_is_a_usage_error() -> None:
    with pytest.raises(errors.StorageUsageError, match="'gcs'") as caught:
        factory.open_backend("gcs", "bucket")
    assert caught.value.exit_code == root_errors.ExitCode.USAGE
    assert isinstance(caught.value, root_errors.UsageError)


def test_backends_come_wrapped_in_retry(tmp_path: pathlib.Path, aws_isolated: object) -> None:
    assert isinstance(factory.open_backend("filesystem", str(tmp_path)), retry.RetryingBackend)
    s3 = factory.open_backend("s3", "some-bucket", "p", {"s3Url": "http://127.0.0.1:1"})
    assert isinstance(s3, retry.RetryingBackend)
    assert s3.location == "s3://some-bucket/p at http://127.0.0.1:1"


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"serverSideEncryption": "AES256"}, "serverSideEncryption"),
        ({"s3ForcePathStyle": "yes"}, "s3ForcePathStyle"),
        ({"insecureSkipTLSVerify": "1"}, "insecureSkipTLSVerify"),
        ({"s3Url": "ftp://host"}, "s3Url"),
        ({"s3Url": "http://user:pw@host"}, "s3Url"),
        ({"region": "Not A Region"}, "region"),
    ],
)
def test_bad_s3_config_names_the_key(config: dict[str, str], named: str) -> None:
    with pytest.raises(errors.StorageUsageError, match=named) as caught:
        factory.open_backend("s3", "bucket", "", config)
    assert "\n" not in str(caught.value)
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize("bucket", ["", "ab", "UPPER", "-lead", "a..b", "x" * 64, "has space"])
def test_bad_bucket_names_are_refused(bucket: str) -> None:
    with pytest.raises(errors.StorageUsageError, match="bucket"):
        factory.open_backend("s3", bucket)


def test_bad_prefix_is_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.StorageUsageError, match="prefix"):
        factory.open_backend("s3", "bucket", "../up")
    with pytest.raises(errors.StorageUsageError, match="prefix"):
        factory.open_backend("filesystem", str(tmp_path), "a/../b")


def test_filesystem_takes_no_config_keys(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.StorageUsageError, match="'region'"):
        factory.open_backend("filesystem", str(tmp_path), "", {"region": "x"})
    with pytest.raises(errors.StorageUsageError, match="folder"):
        factory.open_backend("filesystem", "  ")


def test_s3_settings_defaults_and_values() -> None:
    settings = s3config.parse(
        "my.bucket-1",
        "/backups/",
        {
            "region": "eu-west-1",
            "s3Url": "https://minio.example:9000/",
            "insecureSkipTLSVerify": "TRUE",
            "profile": "team",
            "s3ForcePathStyle": "true",
        },
    )
    assert settings == s3config.S3Settings(
        bucket="my.bucket-1",
        prefix="backups",
        region="eu-west-1",
        endpoint_url="https://minio.example:9000",
        verify_tls=False,
        profile="team",
        path_style=True,
    )
    assert s3config.parse("bucket") == s3config.S3Settings(bucket="bucket")


@hypothesis.given(st.text(max_size=8))
def test_flags_accept_only_true_or_false(value: str) -> None:
    config = {"s3ForcePathStyle": value}
    if value.strip().lower() in ("true", "false"):
        assert s3config.parse("bucket", "", config).path_style == (value.strip().lower() == "true")
    else:
        with pytest.raises(errors.StorageUsageError, match="s3ForcePathStyle"):
            s3config.parse("bucket", "", config)


@hypothesis.given(
    st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=5), max_size=3)
)
def test_unknown_keys_are_always_refused(config: dict[str, str]) -> None:
    hypothesis.assume(set(config) - set(s3config.KEYS))
    with pytest.raises(errors.StorageUsageError, match="unknown s3 config key"):
        s3config.parse("bucket", "", config)
