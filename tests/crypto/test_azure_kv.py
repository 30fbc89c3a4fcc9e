"""The azure-kv key provider, through azure-keyvault-keys against the EMULATED Key Vault.

The endpoint is tests.fixtures.kms_fakes.AzureKvFake over TLS, not Microsoft's service: it
follows the documented wrapkey/unwrapkey contract with a real RSA key and the bearer challenge.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import strongroom.crypto.providers  # noqa: F401  (registers the types)
from strongroom import errors as root_errors
from strongroom.crypto import errors
from strongroom.crypto.providers import _kmscall, azure_kv, base, registry
from tests.fixtures import kms_fakes

CONTEXT = b'{"format":"strongroom.io/keyslot/v1","purpose":"keyring","repository":"r","slot":"s1"}'
OTHER = CONTEXT.replace(b'"s1"', b'"s2"')
#: A keyring of 20 epochs: far more than RSA-OAEP-256 can wrap directly.
SECRET = b'{"epochs":[%s]}' % b",".join(
    b'{"epoch":%d,"key":"%s"}' % (n, b"A" * 44) for n in range(20)
)


def _provider(
    uri: str, sleeps: list[float] | None = None, token: str = kms_fakes.AZURE_TOKEN
) -> azure_kv.AzureKeyVaultProvider:
    backoff = _kmscall.Backoff(
        sleep=(sleeps if sleeps is not None else []).append, jitter=lambda: 1.0
    )
    return azure_kv.AzureKeyVaultProvider(
        azure_kv.KeyName.parse(uri), credential=kms_fakes.StaticToken(token), backoff=backoff
    )


@pytest.fixture
def key_uri(azure_kv_fake: kms_fakes.AzureKvFake) -> str:
    return azure_kv_fake.create_key("keyring")


def test_round_trip_with_the_default_credential(
    azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str
) -> None:
    provider = azure_kv.AzureKeyVaultProvider.from_uri(key_uri)
    wrapped = provider.wrap(SECRET, CONTEXT)
    assert SECRET not in wrapped and len(SECRET) > 190
    version = next(iter(azure_kv_fake.keys["keyring"]))
    kid = f"{azure_kv_fake.endpoint}/keys/keyring/{version}"
    assert provider.fields() == {"uri": key_uri, "keyId": kid}
    opener = azure_kv.AzureKeyVaultProvider.for_slot(provider.fields(), base.Credentials())
    assert opener is not None and opener.unwrap(wrapped, CONTEXT) == SECRET
    assert azure_kv_fake.ops["wrapkey"] == azure_kv_fake.ops["unwrapkey"] == 1
    assert azure_kv_fake.tokens_issued >= 1  # DefaultAzureCredential used managed identity


def test_a_static_token_credential(azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str) -> None:
    provider = _provider(key_uri)
    assert provider.unwrap(provider.wrap(SECRET, CONTEXT), CONTEXT) == SECRET
    assert azure_kv_fake.tokens_issued == 0
    assert azure_kv_fake.ops["wrapkey"] == azure_kv_fake.ops["unwrapkey"] == 1


def test_the_envelope_is_as_documented(azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str) -> None:
    wrapped = _provider(key_uri).wrap(SECRET, CONTEXT)
    size = int.from_bytes(wrapped[:2], "big")
    assert size == 256  # one RSA-2048 block
    rsa_key = next(iter(azure_kv_fake.keys["keyring"].values()))
    opened = rsa_key.decrypt(wrapped[2 : 2 + size], kms_fakes.OAEP)
    assert opened[: len(CONTEXT) + 1] == CONTEXT + b"\x00" and len(opened) == len(CONTEXT) + 33
    assert len(wrapped) == 2 + size + 12 + len(SECRET) + 16


def test_with_keys_get_permission_the_sdk_wraps_locally(
    azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str
) -> None:
    azure_kv_fake.allow_get = True
    provider = _provider(key_uri)
    wrapped = provider.wrap(SECRET, CONTEXT)
    assert azure_kv_fake.ops["wrapkey"] == 0
    assert provider.fields()["keyId"].startswith(f"{azure_kv_fake.endpoint}/keys/keyring/")
    assert provider.unwrap(wrapped, CONTEXT) == SECRET
    assert azure_kv_fake.ops["unwrapkey"] == 1


def test_a_pinned_version_is_used(azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str) -> None:
    version = next(iter(azure_kv_fake.keys["keyring"]))
    azure_kv_fake.create_key("keyring")  # a newer version
    provider = _provider(f"{key_uri}/{version}")
    wrapped = provider.wrap(SECRET, CONTEXT)
    assert provider.fields()["keyId"].endswith(f"/keys/keyring/{version}")
    assert _provider(key_uri + "/" + version).unwrap(wrapped, CONTEXT) == SECRET


@pytest.mark.parametrize("other", [OTHER, CONTEXT[:-1] + b',"x":1}', b"{}"])
def test_another_context_is_an_integrity_error(key_uri: str, other: bytes) -> None:
    provider = _provider(key_uri)
    wrapped = provider.wrap(SECRET, CONTEXT)
    with pytest.raises(errors.IntegrityError, match="another context"):
        provider.unwrap(wrapped, other)


@pytest.mark.parametrize("where", ["rsa", "body"])
def test_altered_bytes_are_integrity_errors(key_uri: str, where: str) -> None:
    provider = _provider(key_uri)
    wrapped = bytearray(provider.wrap(SECRET, CONTEXT))
    wrapped[10 if where == "rsa" else -5] ^= 1
    with pytest.raises(errors.IntegrityError):
        provider.unwrap(bytes(wrapped), CONTEXT)


def test_registry_finds_the_provider_by_uri(key_uri: str) -> None:
    provider = registry.for_uri(key_uri + "/" + "0" * 32)
    assert isinstance(provider, azure_kv.AzureKeyVaultProvider)
    assert provider.key.version == "0" * 32 and provider.key.name == "keyring"
    assert registry.get("azure-kv") is azure_kv.AzureKeyVaultProvider


def test_no_credential_found_is_denied(
    monkeypatch: pytest.MonkeyPatch, azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str
) -> None:
    monkeypatch.delenv("IDENTITY_ENDPOINT")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")
    with pytest.raises(errors.KeyServiceDenied, match="slot s1.*could not get an Azure token"):
        azure_kv.AzureKeyVaultProvider.from_uri(key_uri).wrap(SECRET, CONTEXT)
    assert azure_kv_fake.ops["wrapkey"] == 0


def test_a_plain_http_endpoint_is_refused(
    monkeypatch: pytest.MonkeyPatch, azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str
) -> None:
    monkeypatch.setenv(azure_kv.ENDPOINT_ENV, azure_kv_fake.endpoint.replace("https:", "http:"))
    with pytest.raises(errors.KeyServiceError, match="https://"):
        _provider(key_uri).wrap(SECRET, CONTEXT)
    assert azure_kv_fake.ops == {}


def test_a_refused_token_is_denied(azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str) -> None:
    with pytest.raises(errors.KeyServiceDenied) as info:
        _provider(key_uri, token="not-the-token").wrap(SECRET, CONTEXT)
    assert info.value.exit_code == root_errors.ExitCode.PERMISSION_DENIED
    assert "slot s1" in str(info.value) and "not-the-token" not in str(info.value)


def test_unknown_key_is_denied_and_names_the_slot(azure_kv_fake: kms_fakes.AzureKvFake) -> None:
    uri = f"azure-kv://{azure_kv_fake.vault}/keys/missing"
    with pytest.raises(errors.KeyServiceDenied) as info:
        _provider(uri).wrap(SECRET, CONTEXT)
    assert "slot s1" in str(info.value) and uri in str(info.value)


def test_forbidden_is_denied_without_retry(
    azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str
) -> None:
    provider = _provider(key_uri)
    wrapped = provider.wrap(SECRET, CONTEXT)
    azure_kv_fake.fail_next(403)
    with pytest.raises(errors.KeyServiceDenied, match="slot s1"):
        provider.unwrap(wrapped, CONTEXT)
    assert azure_kv_fake.ops["unwrapkey"] == 1


@pytest.mark.parametrize("statuses", [[429], [503], [429, 503, 500]])
def test_busy_answers_are_retried_then_succeed(
    azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str, statuses: list[int]
) -> None:
    sleeps: list[float] = []
    provider = _provider(key_uri, sleeps)
    wrapped = provider.wrap(SECRET, CONTEXT)
    for status in statuses:
        azure_kv_fake.fail_next(status)
    assert provider.unwrap(wrapped, CONTEXT) == SECRET
    assert azure_kv_fake.ops["unwrapkey"] == len(statuses) + 1
    assert sleeps == [0.2, 0.4, 0.8][: len(statuses)]


def test_beyond_the_retry_bound_is_unreachable(
    azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str
) -> None:
    provider = _provider(key_uri)
    wrapped = provider.wrap(SECRET, CONTEXT)
    azure_kv_fake.fail_next(503, times=10)
    with pytest.raises(errors.KeyServiceUnreachable) as info:
        provider.unwrap(wrapped, CONTEXT)
    assert info.value.exit_code == root_errors.ExitCode.UNREACHABLE
    assert "slot s1" in str(info.value)
    assert azure_kv_fake.ops["unwrapkey"] == _kmscall.Backoff().attempts


def test_an_unreachable_endpoint_fails_within_seconds(
    monkeypatch: pytest.MonkeyPatch, azure_kv_fake: kms_fakes.AzureKvFake, key_uri: str
) -> None:
    monkeypatch.setenv(azure_kv.ENDPOINT_ENV, kms_fakes.unused_endpoint("https"))
    start = time.monotonic()
    with pytest.raises(errors.KeyServiceUnreachable, match="slot s1"):
        azure_kv.AzureKeyVaultProvider(
            azure_kv.KeyName.parse(key_uri), credential=kms_fakes.StaticToken()
        ).wrap(SECRET, CONTEXT)
    assert time.monotonic() - start < 8


_VAULT = st.from_regex(r"[a-z][a-z0-9-]{1,22}[a-z0-9]", fullmatch=True)
_NAME = st.from_regex(r"[A-Za-z0-9-]{1,127}", fullmatch=True)
_VERSION = st.one_of(st.just(""), st.from_regex(r"[0-9a-f]{32}", fullmatch=True))


@given(_VAULT, _NAME, _VERSION)
def test_valid_uris_parse_and_print_back(vault: str, name: str, version: str) -> None:
    uri = f"azure-kv://{vault}.vault.azure.net/keys/{name}" + (f"/{version}" if version else "")
    key = azure_kv.KeyName.parse(uri)
    assert (key.host, key.name, key.version) == (f"{vault}.vault.azure.net", name, version)
    assert key.uri() == uri
    assert azure_kv.AzureKeyVaultProvider.for_slot({"uri": uri}, base.Credentials()) is not None


@given(st.text(max_size=120))
def test_any_other_text_is_a_usage_error(text: str) -> None:
    try:
        key = azure_kv.KeyName.parse(text)
    except errors.InvalidKeyUri as exc:
        assert exc.exit_code == root_errors.ExitCode.USAGE
    else:
        assert key.uri().lower() == text.lower()


@pytest.mark.parametrize(
    "uri",
    [
        "azure-kv://myvault.vault.azure.net/secrets/k",
        "azure-kv://myvault.example.com/keys/k",
        "azure-kv://myvault.vault.azure.net/keys/k/v1/extra",
        "azure-kv://myvault.vault.azure.net/keys/",
        "azure-kv://myvault.vault.azure.net/keys/under_score",
        "https://myvault.vault.azure.net/keys/k",
    ],
)
def test_malformed_uris_are_refused(uri: str) -> None:
    with pytest.raises(errors.InvalidKeyUri):
        azure_kv.AzureKeyVaultProvider.from_uri(uri)


@pytest.mark.parametrize("fields", [{}, {"uri": None}, {"uri": "azure-kv://x/keys/k"}])
def test_malformed_slot_fields_are_integrity_errors(fields: dict[str, object]) -> None:
    with pytest.raises(errors.IntegrityError):
        azure_kv.AzureKeyVaultProvider.for_slot(fields, base.Credentials())
