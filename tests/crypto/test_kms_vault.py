"""The hcvault keyslot against an OpenBao dev server: URIs, mounts, policies, rotation, retries."""

from __future__ import annotations

import pathlib
import time
import urllib.parse
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom import errors as root_errors
from strongroom.crypto import errors
from strongroom.crypto.providers import _kmscall, base, registry, vault_transit
from tests.crypto import kms_proxy
from tests.fixtures import kms, ports

SECRET = b'{"epochs":[],"format":"strongroom.io/keyring/v1"}'
CONTEXT = b'{"format":"strongroom.io/keyslot/v1","purpose":"keyring","repository":"r1","slot":"s1"}'
KEY = st.from_regex(r"[A-Za-z0-9_](?:[A-Za-z0-9_.@-]{0,30}[A-Za-z0-9_])?", fullmatch=True)
MOUNT = st.from_regex(r"[A-Za-z0-9_.-]{1,12}(?:/[A-Za-z0-9_.-]{1,12}){0,2}", fullmatch=True)


@pytest.fixture
def bao(openbao: kms.OpenBao, monkeypatch: pytest.MonkeyPatch) -> kms.OpenBao:
    kms.set_env(monkeypatch, openbao.env())
    return openbao


@pytest.fixture
def proxy(bao: kms.OpenBao, monkeypatch: pytest.MonkeyPatch) -> Iterator[kms_proxy.KmsProxy]:
    port = urllib.parse.urlsplit(bao.addr).port
    assert port is not None
    with kms_proxy.running(port) as running:
        monkeypatch.setenv("VAULT_ADDR", running.url)
        yield running


def _new_key(bao: kms.OpenBao, key_type: str = "aes256-gcm96") -> str:
    name = f"k-{uuid.uuid4().hex[:12]}"
    bao.admin().secrets.transit.create_key(name, key_type=key_type)
    return name


def _no_wait() -> tuple[_kmscall.Backoff, list[float]]:
    slept: list[float] = []
    return _kmscall.Backoff(sleep=slept.append, jitter=lambda: 1.0), slept


@given(KEY, st.one_of(st.none(), MOUNT))
def test_uri_round_trip(key: str, mount: str | None) -> None:
    uri = f"hcvault://{key}" + ("" if mount is None else f"?mount={mount}")
    provider = registry.for_uri(uri)
    assert isinstance(provider, vault_transit.VaultTransitProvider)
    assert (provider.key, provider.mount) == (key, mount or "transit")
    assert vault_transit.parse_uri(provider.uri) == (key, mount or "transit")
    assert provider.uri == uri or mount == "transit"


@given(st.text(max_size=60))
def test_uri_parser_never_accepts_what_it_cannot_format(text: str) -> None:
    try:
        key, mount = vault_transit.parse_uri("hcvault://" + text)
    except errors.InvalidKeyUri as exc:
        assert exc.exit_code == root_errors.ExitCode.USAGE
    else:
        assert vault_transit.KEY_NAME.fullmatch(key) and vault_transit.MOUNT_PATH.fullmatch(mount)
        assert vault_transit.parse_uri(vault_transit.format_uri(key, mount)) == (key, mount)


@pytest.mark.parametrize(
    "uri",
    ["hcvault://", "hcvault://a/b", "hcvault://k?mnt=x", "hcvault://k?mount=", "hcvault://k?mount=a&mount=b",
     "hcvault://k?mount=/abs", "hcvault://-k", "aws-kms://k", "hcvault://k?mount=a//b"],
)  # fmt: skip
def test_malformed_uris_are_usage_errors(uri: str) -> None:
    with pytest.raises(errors.InvalidKeyUri):
        vault_transit.parse_uri(uri)


@pytest.mark.parametrize(
    "fields",
    [{}, {"uri": "hcvault://k"}, {"uri": "hcvault://k", "keyVersion": 0},
     {"uri": "hcvault://k", "keyVersion": True}, {"uri": "hcvault://k", "keyVersion": "1"},
     {"uri": "hcvault://k/x", "keyVersion": 1}, {"uri": "hcvault://k", "keyVersion": 1, "x": 1}],
)  # fmt: skip
def test_malformed_slot_fields_are_integrity_errors(fields: dict[str, object]) -> None:
    with pytest.raises(errors.IntegrityError):
        vault_transit.VaultTransitProvider.for_slot(fields, base.Credentials())


def test_wrapped_is_the_transit_ciphertext_and_fields_carry_its_version(bao: kms.OpenBao) -> None:
    provider = vault_transit.VaultTransitProvider.from_uri(f"hcvault://{bao.key}")
    wrapped = provider.wrap(SECRET, CONTEXT)
    assert wrapped.startswith(b"vault:v1:")
    assert provider.fields() == {"uri": f"hcvault://{bao.key}", "keyVersion": 1}
    assert vault_transit.VaultTransitProvider(bao.key).fields()["keyVersion"] == 1  # key read


def test_second_mount(bao: kms.OpenBao) -> None:
    uri = f"hcvault://{bao.key}?mount={bao.second_mount}"
    provider = registry.for_uri(uri)
    wrapped = provider.wrap(SECRET, CONTEXT)
    fields = provider.fields()
    assert fields["uri"] == uri
    opener = vault_transit.VaultTransitProvider.for_slot(fields, base.Credentials())
    assert opener.mount == bao.second_mount and opener.unwrap(wrapped, CONTEXT) == SECRET
    with pytest.raises(errors.IntegrityError):  # same key name, other mount: other material
        vault_transit.VaultTransitProvider(bao.key).unwrap(wrapped, CONTEXT)


def test_encrypt_only_token_wraps_but_cannot_unwrap(bao: kms.OpenBao) -> None:
    writer = vault_transit.VaultSettings(bao.addr, bao.encrypt_only_token)
    wrapped = vault_transit.VaultTransitProvider(bao.key, settings=writer).wrap(SECRET, CONTEXT)
    with pytest.raises(
        errors.KeyServiceDenied, match=r"hcvault://strongroom-test \(slot s1\)"
    ) as info:
        vault_transit.VaultTransitProvider(bao.key, settings=writer).unwrap(wrapped, CONTEXT)
    assert info.value.exit_code == root_errors.ExitCode.PERMISSION_DENIED
    assert bao.encrypt_only_token not in str(info.value)
    assert bao.encrypt_only_token not in repr(writer)
    assert vault_transit.VaultTransitProvider(bao.key).unwrap(wrapped, CONTEXT) == SECRET


def test_unknown_key_is_denied_naming_the_slot(bao: kms.OpenBao) -> None:
    writer = vault_transit.VaultSettings(bao.addr, bao.encrypt_only_token)
    with pytest.raises(errors.KeyServiceDenied, match=r"hcvault://missing \(slot s1\)"):
        vault_transit.VaultTransitProvider("missing", settings=writer).wrap(SECRET, CONTEXT)
    wrapped = vault_transit.VaultTransitProvider(bao.key).wrap(SECRET, CONTEXT)
    with pytest.raises(
        errors.KeyServiceDenied, match=r"hcvault://missing2 \(slot s1\): key not found"
    ):
        vault_transit.VaultTransitProvider("missing2").unwrap(wrapped, CONTEXT)
    with pytest.raises(errors.KeyServiceDenied, match="no such key or transit mount"):
        vault_transit.VaultTransitProvider(bao.key, "nomount").wrap(SECRET, CONTEXT)


def test_a_key_type_without_associated_data_is_refused(bao: kms.OpenBao) -> None:
    name = _new_key(bao, "rsa-2048")
    with pytest.raises(errors.KeyServiceError, match="associated data"):
        vault_transit.VaultTransitProvider(name).wrap(SECRET, CONTEXT)


def test_chacha20_keys_work(bao: kms.OpenBao) -> None:
    provider = vault_transit.VaultTransitProvider(_new_key(bao, "chacha20-poly1305"))
    assert provider.unwrap(provider.wrap(SECRET, CONTEXT), CONTEXT) == SECRET


def test_rewrap_after_rotation_then_old_versions_retired(bao: kms.OpenBao) -> None:
    name = _new_key(bao)
    provider = vault_transit.VaultTransitProvider(name)
    old = provider.wrap(SECRET, CONTEXT)
    assert provider.fields()["keyVersion"] == 1
    transit = bao.admin().secrets.transit
    transit.rotate_key(name)
    rewrapper = vault_transit.VaultTransitProvider.for_slot(provider.fields(), base.Credentials())
    new = rewrapper.rewrap(old, CONTEXT)
    assert new.startswith(b"vault:v2:") and rewrapper.fields()["keyVersion"] == 2
    transit.update_key_configuration(name, min_decryption_version=2)
    with pytest.raises(errors.KeyServiceDenied, match="min_decryption_version"):
        provider.unwrap(old, CONTEXT)
    assert provider.unwrap(new, CONTEXT) == SECRET


@pytest.mark.parametrize(
    "wrapped", [b"", b"vault:v1:", b"vault:v0:AAAA", b"vault:v1:AA\xffA", b"vault:v1:A A"]
)
def test_malformed_wrapped_values_never_reach_vault(
    bao: kms.OpenBao, proxy: kms_proxy.KmsProxy, wrapped: bytes
) -> None:
    with pytest.raises(errors.IntegrityError, match="slot s1"):
        vault_transit.VaultTransitProvider(bao.key).unwrap(wrapped, CONTEXT)
    assert proxy.count == 0


def test_wrap_and_unwrap_are_one_call_each(bao: kms.OpenBao, proxy: kms_proxy.KmsProxy) -> None:
    provider = vault_transit.VaultTransitProvider(bao.key)
    wrapped = provider.wrap(SECRET, CONTEXT)
    fields = provider.fields()
    assert proxy.count == 1
    opener = vault_transit.VaultTransitProvider.for_slot(fields, base.Credentials())
    assert opener.unwrap(wrapped, CONTEXT) == SECRET
    assert proxy.count == 2
    assert proxy.requests == [
        f"POST /v1/transit/encrypt/{bao.key}", f"POST /v1/transit/decrypt/{bao.key}"
    ]  # fmt: skip


@pytest.mark.parametrize("failure", [kms_proxy.VAULT_TOO_MANY, kms_proxy.UNAVAILABLE])
def test_busy_answers_are_retried_then_succeed(
    bao: kms.OpenBao, proxy: kms_proxy.KmsProxy, failure: kms_proxy.Reply
) -> None:
    backoff, slept = _no_wait()
    provider = vault_transit.VaultTransitProvider(bao.key, backoff=backoff)
    proxy.fail_next(failure, failure, failure)
    wrapped = provider.wrap(SECRET, CONTEXT)
    assert proxy.count == 4 and slept == [0.2, 0.4, 0.8]
    proxy.fail_next(failure)
    assert provider.unwrap(wrapped, CONTEXT) == SECRET and proxy.count == 6


def test_busy_beyond_the_bound_is_unreachable(bao: kms.OpenBao, proxy: kms_proxy.KmsProxy) -> None:
    backoff, slept = _no_wait()
    proxy.fail_next(*[kms_proxy.UNAVAILABLE] * 5)
    with pytest.raises(errors.KeyServiceUnreachable, match="slot s1") as info:
        vault_transit.VaultTransitProvider(bao.key, backoff=backoff).wrap(SECRET, CONTEXT)
    assert info.value.exit_code == root_errors.ExitCode.UNREACHABLE
    assert proxy.count == 4 and len(slept) == 3


def test_unreachable_server_fails_fast_naming_the_slot(
    monkeypatch: pytest.MonkeyPatch, openbao: kms.OpenBao
) -> None:
    kms.set_env(monkeypatch, openbao.env())
    monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{ports.free_port()}")
    start = time.monotonic()
    with pytest.raises(
        errors.KeyServiceUnreachable, match=r"hcvault://strongroom-test \(slot s1\)"
    ):
        vault_transit.VaultTransitProvider(openbao.key).wrap(SECRET, CONTEXT)
    assert time.monotonic() - start < 5


def test_hung_server_fails_within_the_budget(
    monkeypatch: pytest.MonkeyPatch, openbao: kms.OpenBao
) -> None:
    kms.set_env(monkeypatch, openbao.env())
    with kms_proxy.silent_port() as port:
        monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{port}")
        start = time.monotonic()
        with pytest.raises(errors.KeyServiceUnreachable, match="slot s1"):
            vault_transit.VaultTransitProvider(openbao.key).wrap(SECRET, CONTEXT)
    assert time.monotonic() - start < 5


def test_settings_from_the_environment() -> None:
    env = {"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "t0k", "VAULT_NAMESPACE": "team",
           "VAULT_CACERT": "/etc/ca.pem"}  # fmt: skip
    assert vault_transit.VaultSettings.from_env(env) == vault_transit.VaultSettings(
        "https://vault:8200", "t0k", "team", "/etc/ca.pem"
    )
    skip = vault_transit.VaultSettings.from_env({**env, "VAULT_SKIP_VERIFY": "true"})
    assert skip.verify is False and "t0k" not in repr(skip)
    with pytest.raises(errors.KeyServiceError, match="VAULT_ADDR"):
        vault_transit.VaultSettings.from_env({"VAULT_TOKEN": "t0k"})


def test_no_token_is_denied(
    monkeypatch: pytest.MonkeyPatch, openbao: kms.OpenBao, tmp_path: pathlib.Path
) -> None:
    kms.set_env(monkeypatch, {"VAULT_ADDR": openbao.addr})
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(errors.KeyServiceDenied, match="VAULT_TOKEN"):
        vault_transit.VaultTransitProvider(openbao.key).wrap(SECRET, CONTEXT)
