"""``registry.for_uri``: a key URI picks its provider by scheme (``--kms URI``)."""

from __future__ import annotations

import pytest

import strongroom.crypto.providers  # noqa: F401  (registers the built-in types)
from strongroom import errors as root_errors
from strongroom.crypto import errors
from strongroom.crypto.providers import aws_kms, registry, vault_transit


def test_schemes_are_the_key_service_types() -> None:
    assert {"aws-kms", "hcvault"} <= set(registry.schemes())
    assert "age-x25519" not in registry.schemes() and "passphrase" not in registry.schemes()


def test_for_uri_dispatches_on_the_scheme() -> None:
    assert registry.for_uri("aws-kms://alias/backup") == aws_kms.AwsKmsProvider("alias/backup")
    assert registry.for_uri("hcvault://backup?mount=kv2") == vault_transit.VaultTransitProvider(
        "backup", "kv2"
    )


@pytest.mark.parametrize("uri", ["s3kms://x", "passphrase://x", "alias/backup", "", "://x"])
def test_unknown_scheme_is_a_usage_error_listing_the_known_ones(uri: str) -> None:
    with pytest.raises(registry.UnknownKeyUri) as info:
        registry.for_uri(uri)
    assert info.value.exit_code == root_errors.ExitCode.USAGE
    assert "aws-kms" in str(info.value) and "hcvault" in str(info.value)
    if "://" in uri:
        assert repr(uri.split("://")[0]) in str(info.value)


def test_a_malformed_rest_is_the_providers_usage_error() -> None:
    with pytest.raises(errors.InvalidKeyUri):
        registry.for_uri("aws-kms://not a key")
