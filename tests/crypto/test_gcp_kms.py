"""The gcp-kms key provider, through google-cloud-kms (REST) against the EMULATED Cloud KMS.

The endpoint is tests.fixtures.kms_fakes.GcpKmsFake, not Google's service: it follows the
documented REST contract of encrypt and decrypt and really binds the AAD.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import strongroom.crypto.providers  # noqa: F401  (registers the types)
from strongroom import errors as root_errors
from strongroom.crypto import errors
from strongroom.crypto.providers import _kmscall, base, gcp_kms, registry
from tests.fixtures import kms_fakes

KEY = "projects/strongroom-test/locations/europe-west1/keyRings/backups/cryptoKeys/keyring"
CONTEXT = b'{"format":"strongroom.io/keyslot/v1","purpose":"keyring","repository":"r","slot":"s1"}'
OTHER = CONTEXT.replace(b'"s1"', b'"s2"')
SECRET = b'{"epochs":[%s]}' % b",".join(
    b'{"epoch":%d,"key":"%s"}' % (n, b"A" * 44) for n in range(20)
)


def _provider(uri: str, sleeps: list[float] | None = None) -> gcp_kms.GcpKmsProvider:
    backoff = _kmscall.Backoff(
        sleep=(sleeps if sleeps is not None else []).append, jitter=lambda: 1.0
    )
    return gcp_kms.GcpKmsProvider(gcp_kms.parse_uri(uri), backoff=backoff)


@pytest.fixture
def key_uri(gcp_kms_fake: kms_fakes.GcpKmsFake) -> str:
    return gcp_kms_fake.create_key(KEY)


def test_round_trip_is_one_request_each_way(
    gcp_kms_fake: kms_fakes.GcpKmsFake, key_uri: str
) -> None:
    provider = gcp_kms.GcpKmsProvider.from_uri(key_uri)
    wrapped = provider.wrap(SECRET, CONTEXT)
    assert SECRET not in wrapped
    assert provider.fields() == {"uri": key_uri, "keyVersion": f"{KEY}/cryptoKeyVersions/1"}
    opener = gcp_kms.GcpKmsProvider.for_slot(provider.fields(), base.Credentials())
    assert opener is not None and opener.unwrap(wrapped, CONTEXT) == SECRET
    assert gcp_kms_fake.ops == {"encrypt": 1, "decrypt": 1}


def test_no_credentials_travel_to_a_plain_http_endpoint(
    gcp_kms_fake: kms_fakes.GcpKmsFake, key_uri: str
) -> None:
    gcp_kms.GcpKmsProvider.from_uri(key_uri).wrap(SECRET, CONTEXT)
    assert gcp_kms_fake.authorizations == [None]


def test_application_default_credentials_over_tls(gcp_kms_tls_fake: kms_fakes.GcpKmsFake) -> None:
    uri = gcp_kms_tls_fake.create_key(KEY)
    provider = gcp_kms.GcpKmsProvider.from_uri(uri)
    assert provider.unwrap(provider.wrap(SECRET, CONTEXT), CONTEXT) == SECRET
    assert all(str(header).startswith("Bearer ey") for header in gcp_kms_tls_fake.authorizations)
    assert gcp_kms_tls_fake.ops == {"encrypt": 1, "decrypt": 1}


def test_a_service_account_the_service_does_not_trust_is_denied(
    gcp_kms_tls_fake: kms_fakes.GcpKmsFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = gcp_kms_tls_fake.create_key(KEY)
    stranger, _ = kms_fakes.service_account(tmp_path, f"{gcp_kms_tls_fake.endpoint}/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(stranger))
    with pytest.raises(errors.KeyServiceDenied, match="slot s1") as info:
        _provider(uri).wrap(SECRET, CONTEXT)
    assert "PRIVATE KEY" not in str(info.value)
    # google-auth's session renews the credential and resends twice on a 401; nothing more.
    assert gcp_kms_tls_fake.ops["encrypt"] == 3


def test_old_slots_open_after_the_key_rotates(
    gcp_kms_fake: kms_fakes.GcpKmsFake, key_uri: str
) -> None:
    provider = gcp_kms.GcpKmsProvider.from_uri(key_uri)
    old = provider.wrap(SECRET, CONTEXT)
    gcp_kms_fake.rotate(KEY)
    new = provider.wrap(SECRET, CONTEXT)
    assert provider.fields()["keyVersion"] == f"{KEY}/cryptoKeyVersions/2"
    assert provider.unwrap(old, CONTEXT) == provider.unwrap(new, CONTEXT) == SECRET


def test_another_context_is_an_integrity_error(key_uri: str) -> None:
    provider = gcp_kms.GcpKmsProvider.from_uri(key_uri)
    wrapped = provider.wrap(SECRET, CONTEXT)
    with pytest.raises(errors.IntegrityError, match="slot s2"):
        provider.unwrap(wrapped, OTHER)


def test_unknown_key_is_denied_and_names_the_slot(gcp_kms_fake: kms_fakes.GcpKmsFake) -> None:
    uri = "gcp-kms://" + KEY.replace("keyring", "missing")
    with pytest.raises(errors.KeyServiceDenied) as info:
        _provider(uri).wrap(SECRET, CONTEXT)
    assert info.value.exit_code == root_errors.ExitCode.PERMISSION_DENIED
    assert "slot s1" in str(info.value) and uri in str(info.value)


def test_a_disabled_key_version_is_denied(gcp_kms_fake: kms_fakes.GcpKmsFake, key_uri: str) -> None:
    provider = _provider(key_uri)
    wrapped = provider.wrap(SECRET, CONTEXT)
    gcp_kms_fake.disabled.add(f"{KEY}/1")
    with pytest.raises(errors.KeyServiceDenied, match="not enabled"):
        provider.unwrap(wrapped, CONTEXT)
    with pytest.raises(errors.KeyServiceDenied, match="not enabled"):
        provider.wrap(SECRET, CONTEXT)


def test_registry_finds_the_provider_by_uri(key_uri: str) -> None:
    provider = registry.for_uri(key_uri)
    assert isinstance(provider, gcp_kms.GcpKmsProvider) and provider.uri == key_uri
    assert registry.get("gcp-kms") is gcp_kms.GcpKmsProvider


@pytest.mark.parametrize("status", [401, 403])
def test_refused_requests_are_denied_without_retry(
    gcp_kms_fake: kms_fakes.GcpKmsFake, key_uri: str, status: int
) -> None:
    gcp_kms_fake.fail_next(status)
    with pytest.raises(errors.KeyServiceDenied, match="slot s1"):
        _provider(key_uri).wrap(SECRET, CONTEXT)
    assert gcp_kms_fake.ops["encrypt"] == 1


@pytest.mark.parametrize("statuses", [[429], [503], [429, 503, 500]])
def test_busy_answers_are_retried_then_succeed(
    gcp_kms_fake: kms_fakes.GcpKmsFake, key_uri: str, statuses: list[int]
) -> None:
    for status in statuses:
        gcp_kms_fake.fail_next(status)
    sleeps: list[float] = []
    provider = _provider(key_uri, sleeps)
    wrapped = provider.wrap(SECRET, CONTEXT)
    assert gcp_kms_fake.ops["encrypt"] == len(statuses) + 1
    assert sleeps == [0.2, 0.4, 0.8][: len(statuses)]
    gcp_kms_fake.fail_next(503)
    assert provider.unwrap(wrapped, CONTEXT) == SECRET


def test_beyond_the_retry_bound_is_unreachable(
    gcp_kms_fake: kms_fakes.GcpKmsFake, key_uri: str
) -> None:
    gcp_kms_fake.fail_next(503, times=10)
    with pytest.raises(errors.KeyServiceUnreachable) as info:
        _provider(key_uri).wrap(SECRET, CONTEXT)
    assert info.value.exit_code == root_errors.ExitCode.UNREACHABLE
    assert "slot s1" in str(info.value)
    assert gcp_kms_fake.ops["encrypt"] == _kmscall.Backoff().attempts


def test_an_unreachable_endpoint_fails_within_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(gcp_kms.ENDPOINT_ENV, kms_fakes.unused_endpoint("http"))
    start = time.monotonic()
    with pytest.raises(errors.KeyServiceUnreachable, match="slot s1"):
        gcp_kms.GcpKmsProvider.from_uri("gcp-kms://" + KEY).wrap(SECRET, CONTEXT)
    assert time.monotonic() - start < 8


@pytest.mark.parametrize("corruption", ["ciphertext", "verified"])
def test_a_corrupted_encrypt_answer_is_an_integrity_error(
    gcp_kms_fake: kms_fakes.GcpKmsFake, key_uri: str, corruption: str
) -> None:
    gcp_kms_fake.corrupt_next(corruption)
    with pytest.raises(errors.IntegrityError, match="CRC32C"):
        _provider(key_uri).wrap(SECRET, CONTEXT)


def test_a_corrupted_decrypt_answer_is_an_integrity_error(
    gcp_kms_fake: kms_fakes.GcpKmsFake, key_uri: str
) -> None:
    provider = _provider(key_uri)
    wrapped = provider.wrap(SECRET, CONTEXT)
    gcp_kms_fake.corrupt_next("plaintext")
    with pytest.raises(errors.IntegrityError, match="CRC32C"):
        provider.unwrap(wrapped, CONTEXT)


def test_crc32c_is_the_castagnoli_checksum() -> None:
    assert gcp_kms.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value


_ID = st.from_regex(r"[A-Za-z0-9_-]{1,63}", fullmatch=True)
_PROJECT = st.from_regex(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", fullmatch=True)
_LOCATION = st.sampled_from(["global", "europe-west1", "us", "asia-northeast3"])


@given(_PROJECT, _LOCATION, _ID, _ID)
def test_valid_uris_parse_and_print_back(project: str, location: str, ring: str, key: str) -> None:
    name = f"projects/{project}/locations/{location}/keyRings/{ring}/cryptoKeys/{key}"
    provider = gcp_kms.GcpKmsProvider.from_uri("gcp-kms://" + name)
    assert provider.name == name and provider.uri == "gcp-kms://" + name
    assert gcp_kms.GcpKmsProvider.for_slot({"uri": provider.uri}, base.Credentials()) == provider


@given(st.text(max_size=120))
def test_any_other_text_is_a_usage_error(text: str) -> None:
    try:
        name = gcp_kms.parse_uri(text)
    except errors.InvalidKeyUri as exc:
        assert exc.exit_code == root_errors.ExitCode.USAGE
    else:
        assert text == "gcp-kms://" + name and "/cryptoKeys/" in name


@pytest.mark.parametrize(
    "uri",
    [
        "gcp-kms://" + KEY + "/cryptoKeyVersions/1",
        "gcp-kms://" + KEY.replace("/keyRings/backups", ""),
        "gcp-kms:/" + KEY,
        "aws-kms://" + KEY,
        "gcp-kms://" + KEY.replace("keyring", "key ring"),
        "gcp-kms://" + KEY + "/",
    ],
)
def test_malformed_uris_are_refused(uri: str) -> None:
    with pytest.raises(errors.InvalidKeyUri):
        gcp_kms.GcpKmsProvider.from_uri(uri)


@pytest.mark.parametrize("fields", [{}, {"uri": 7}, {"uri": "gcp-kms://projects/x"}])
def test_malformed_slot_fields_are_integrity_errors(fields: dict[str, object]) -> None:
    with pytest.raises(errors.IntegrityError):
        gcp_kms.GcpKmsProvider.for_slot(fields, base.Credentials())
