"""One entry per registered keyslot type, for the provider contract suite.

A provider module that registers a new type adds a case here; ``test_every_type_has_a_case``
fails until it does. A case is built from the test's fixture request, so a key-service case can
start its server (a session fixture) and point the environment at it for that test only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from strongroom.crypto import agekeys, errors, kdf
from strongroom.crypto.providers import (
    age_x25519,
    aws_kms,
    azure_kv,
    base,
    gcp_kms,
    passphrase,
    vault_transit,
)
from tests.fixtures import kms, kms_fakes

FAST_ARGON2 = kdf.Argon2Params(memory_kib=256, iterations=1, lanes=1)


@dataclasses.dataclass(frozen=True)
class Case:
    provider: base.KeyProvider
    credentials: base.Credentials
    wrong: base.Credentials
    #: The error a failed final authentication reports: IntegrityError when the scheme is
    #: key-committing, the wrong-key class when a wrong key and tampering look the same.
    tag_failure: type[errors.CryptoError]
    #: Text that must never appear in fields, reprs or error messages.
    secrets: tuple[str, ...]
    #: False for key services: ``for_slot`` opens any slot, access comes from the environment.
    needs_credentials: bool = True
    #: Opens the slot with the wrong key or a refused token (instead of ``wrong``).
    wrong_provider: base.KeyProvider | None = None
    #: What opening with the wrong credentials reports.
    denied: tuple[type[errors.CryptoError], ...] = (
        errors.NoMatchingIdentity, errors.WrongPassphrase,
    )  # fmt: skip
    #: What an altered wrapped value may report, besides ``denied``.
    tamper_failures: tuple[type[errors.CryptoError], ...] = (errors.IntegrityError,)


def _age(request: pytest.FixtureRequest) -> Case:
    identity, other = agekeys.Identity.generate(), agekeys.Identity.generate()
    return Case(
        provider=age_x25519.AgeX25519Provider(identity.recipient()),
        credentials=base.Credentials(identities=(other, identity)),
        wrong=base.Credentials(identities=(other,), passphrases=(b"nope",)),
        tag_failure=errors.IntegrityError,
        secrets=(identity.encode(), identity.secret.hex()),
    )


def _passphrase(request: pytest.FixtureRequest) -> Case:
    return Case(
        provider=passphrase.PassphraseProvider.new(b"open sesame 1", FAST_ARGON2),
        credentials=base.Credentials(passphrases=(b"wrong first", b"open sesame 1")),
        wrong=base.Credentials(
            identities=(agekeys.Identity.generate(),), passphrases=(b"open sesame 2",)
        ),
        tag_failure=errors.WrongPassphrase,
        secrets=("open sesame 1", b"open sesame 1".hex()),
    )


def _aws_kms(request: pytest.FixtureRequest) -> Case:
    """moto: the key by alias; the wrong provider names another key (moto: AccessDenied).

    moto's blobs begin with the key id, so an altered id is refused as another key (denied);
    AWS itself reports InvalidCiphertextException there.
    """
    server: kms.MotoKms = request.getfixturevalue("moto_kms")
    kms.set_env(request.getfixturevalue("monkeypatch"), server.env())
    other = server.other_key_arn
    return Case(
        provider=aws_kms.AwsKmsProvider(server.alias),
        credentials=base.Credentials(),
        wrong=base.Credentials(),
        tag_failure=errors.IntegrityError,
        secrets=(kms.SECRET_ACCESS_KEY,),
        needs_credentials=False,
        wrong_provider=aws_kms.AwsKmsProvider(other, key_arn=other),
        denied=(errors.KeyServiceDenied,),
        tamper_failures=(errors.IntegrityError, errors.KeyServiceDenied),
    )


def _hcvault(request: pytest.FixtureRequest) -> Case:
    """OpenBao with the root token; the wrong provider holds an encrypt-only token."""
    server: kms.OpenBao = request.getfixturevalue("openbao")
    kms.set_env(request.getfixturevalue("monkeypatch"), server.env())
    writer = vault_transit.VaultSettings(server.addr, server.encrypt_only_token)
    return Case(
        provider=vault_transit.VaultTransitProvider(server.key),
        credentials=base.Credentials(),
        wrong=base.Credentials(),
        tag_failure=errors.IntegrityError,
        secrets=(server.root_token, server.encrypt_only_token),
        needs_credentials=False,
        wrong_provider=vault_transit.VaultTransitProvider(server.key, settings=writer),
        denied=(errors.KeyServiceDenied,),
    )


def _gcp_kms(request: pytest.FixtureRequest) -> Case:
    """The emulated Cloud KMS; the wrong provider names a key the service does not have."""
    fake: kms_fakes.GcpKmsFake = request.getfixturevalue("gcp_kms_fake")
    name = "projects/strongroom-test/locations/global/keyRings/backups/cryptoKeys/keyring"
    uri = fake.create_key(name)
    return Case(
        provider=gcp_kms.GcpKmsProvider.from_uri(uri),
        credentials=base.Credentials(),
        wrong=base.Credentials(),
        tag_failure=errors.IntegrityError,
        secrets=tuple(secret.hex() for secret in fake.keys[name]),
        needs_credentials=False,
        wrong_provider=gcp_kms.GcpKmsProvider.from_uri(uri.replace("/keyring", "/other")),
        denied=(errors.KeyServiceDenied,),
    )


def _azure_kv(request: pytest.FixtureRequest) -> Case:
    """The emulated Key Vault (DefaultAzureCredential through its managed identity endpoint);
    the wrong provider presents a token the vault refuses."""
    fake: kms_fakes.AzureKvFake = request.getfixturevalue("azure_kv_fake")
    uri = fake.create_key("keyring")
    refused = kms_fakes.StaticToken("refused-token")
    return Case(
        provider=azure_kv.AzureKeyVaultProvider.from_uri(uri),
        credentials=base.Credentials(),
        wrong=base.Credentials(),
        tag_failure=errors.IntegrityError,
        secrets=(kms_fakes.AZURE_TOKEN, "refused-token"),
        needs_credentials=False,
        wrong_provider=azure_kv.AzureKeyVaultProvider(azure_kv.KeyName.parse(uri), refused),
        denied=(errors.KeyServiceDenied,),
    )


CASES: dict[str, Callable[[pytest.FixtureRequest], Case]] = {
    age_x25519.AgeX25519Provider.TYPE: _age,
    passphrase.PassphraseProvider.TYPE: _passphrase,
    aws_kms.AwsKmsProvider.TYPE: _aws_kms,
    vault_transit.VaultTransitProvider.TYPE: _hcvault,
    gcp_kms.GcpKmsProvider.TYPE: _gcp_kms,
    azure_kv.AzureKeyVaultProvider.TYPE: _azure_kv,
}
