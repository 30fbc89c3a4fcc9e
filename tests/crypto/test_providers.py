"""The key provider contract, run against every registered keyslot type."""

from __future__ import annotations

import json

import pytest

import strongroom.crypto.providers  # noqa: F401  (registers the built-in types)
from strongroom import errors as root_errors
from strongroom.crypto import errors
from strongroom.crypto.providers import base, passphrase, registry
from tests.crypto import provider_cases

SECRET = b'{"epochs":[{"epoch":1,"key":"AAAA"}],"format":"strongroom.io/keyring/v1"}'
CONTEXT = b'{"format":"strongroom.io/keyslot/v1","purpose":"keyring","repository":"r","slot":"s"}'
OTHER_CONTEXT = CONTEXT.replace(b'"slot":"s"', b'"slot":"t"')
TYPES = registry.types()


@pytest.fixture(params=TYPES)
def case(request: pytest.FixtureRequest) -> provider_cases.Case:
    return provider_cases.CASES[request.param](request)


def _opener(case: provider_cases.Case) -> base.KeyProvider:
    cls = registry.get(case.provider.TYPE)
    opener = cls.for_slot(case.provider.fields(), case.credentials)
    assert opener is not None
    return opener


def _no_secret(case: provider_cases.Case, text: str) -> None:
    for secret in case.secrets:
        assert secret not in text


def test_every_type_has_a_case() -> None:
    assert set(TYPES) >= {"age-x25519", "passphrase"}
    assert set(TYPES) == set(provider_cases.CASES)


def test_round_trip(case: provider_cases.Case) -> None:
    wrapped = case.provider.wrap(SECRET, CONTEXT)
    assert SECRET not in wrapped
    assert _opener(case).unwrap(wrapped, CONTEXT) == SECRET
    assert case.provider.wrap(SECRET, CONTEXT) != wrapped  # fresh randomness every time


def test_fields_are_clear_json_without_secrets(case: provider_cases.Case) -> None:
    fields = case.provider.fields()
    text = json.dumps(fields)
    assert json.loads(text) == fields
    _no_secret(case, text)
    _no_secret(case, repr(case.provider))
    _no_secret(case, repr(case.credentials))


def test_no_credentials_means_no_provider(case: provider_cases.Case) -> None:
    """Except for key services, whose access comes from the environment: they always open."""
    cls = registry.get(case.provider.TYPE)
    wrapped = case.provider.wrap(SECRET, CONTEXT)
    opener = cls.for_slot(case.provider.fields(), base.Credentials())
    if case.needs_credentials:
        assert opener is None
    else:
        assert opener is not None and opener.unwrap(wrapped, CONTEXT) == SECRET


def test_wrong_credentials_never_open(case: provider_cases.Case) -> None:
    wrapped = case.provider.wrap(SECRET, CONTEXT)
    cls = registry.get(case.provider.TYPE)
    opener = case.wrong_provider or cls.for_slot(case.provider.fields(), case.wrong)
    if opener is None:
        return
    with pytest.raises(case.denied) as info:
        opener.unwrap(wrapped, CONTEXT)
    assert info.value.exit_code == root_errors.ExitCode.PERMISSION_DENIED
    _no_secret(case, str(info.value))


def test_context_mismatch_fails(case: provider_cases.Case) -> None:
    wrapped = case.provider.wrap(SECRET, CONTEXT)
    with pytest.raises(errors.CryptoError) as info:
        _opener(case).unwrap(wrapped, OTHER_CONTEXT)
    assert isinstance(info.value, errors.IntegrityError | errors.WrongPassphrase)


def test_tampered_wrapped_bytes_never_open(case: provider_cases.Case) -> None:
    wrapped = case.provider.wrap(SECRET, CONTEXT)
    opener = _opener(case)
    step = max(1, len(wrapped) // 40)
    for index in [*range(0, len(wrapped), step), len(wrapped) - 1]:
        tampered = wrapped[:index] + bytes([wrapped[index] ^ 0x20]) + wrapped[index + 1 :]
        with pytest.raises(errors.CryptoError) as info:
            opener.unwrap(tampered, CONTEXT)
        assert isinstance(info.value, (*case.tamper_failures, *case.denied))
        _no_secret(case, str(info.value))


def test_tampered_tail_reports_the_tag_failure_class(case: provider_cases.Case) -> None:
    wrapped = case.provider.wrap(SECRET, CONTEXT)
    tampered = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(case.tag_failure):
        _opener(case).unwrap(tampered, CONTEXT)


@pytest.mark.parametrize("keep", [0, 1, 10, 27])
def test_truncated_wrapped_bytes_are_integrity_errors(case: provider_cases.Case, keep: int) -> None:
    wrapped = case.provider.wrap(SECRET, CONTEXT)
    with pytest.raises(errors.IntegrityError):
        _opener(case).unwrap(wrapped[:keep], CONTEXT)


def test_appended_bytes_never_open(case: provider_cases.Case) -> None:
    wrapped = case.provider.wrap(SECRET, CONTEXT)
    with pytest.raises(errors.CryptoError):
        _opener(case).unwrap(wrapped + b"\x00", CONTEXT)


def test_registry_unknown_type_names_it() -> None:
    with pytest.raises(errors.CryptoError, match="no-such-kms"):
        registry.get("no-such-kms")


def test_registry_refuses_a_clashing_type() -> None:
    class Impostor:
        TYPE = "passphrase"

    with pytest.raises(errors.CryptoError, match="passphrase"):
        registry.register(Impostor)  # type: ignore[arg-type]
    assert registry.get("passphrase") is passphrase.PassphraseProvider
