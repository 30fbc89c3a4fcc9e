"""The aws-kms keyslot against a moto server: URIs, key names, errors, retries, call counts.

moto does not enforce IAM, disabled keys or credentials, so nothing here relies on those.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom import errors as root_errors
from strongroom.crypto import errors
from strongroom.crypto.providers import _kmscall, aws_kms, base, registry
from tests.crypto import kms_proxy
from tests.fixtures import kms, ports

SECRET = b'{"epochs":[],"format":"strongroom.io/keyring/v1"}'
CONTEXT = b'{"format":"strongroom.io/keyslot/v1","purpose":"keyring","repository":"r1","slot":"s1"}'
UUID = st.uuids().map(str)
ALIAS = st.from_regex(r"alias/[A-Za-z0-9/_-]{1,40}", fullmatch=True)
ARN = st.builds(
    lambda region, account, tail: f"arn:aws:kms:{region}:{account}:{tail}",
    st.sampled_from(["us-east-1", "eu-central-1", "ap-southeast-2"]),
    st.from_regex(r"[0-9]{12}", fullmatch=True),
    st.one_of(UUID.map(lambda u: f"key/{u}"), ALIAS),
)


def _no_wait(attempts: int = 4) -> tuple[_kmscall.Backoff, list[float]]:
    slept: list[float] = []
    return _kmscall.Backoff(attempts=attempts, sleep=slept.append, jitter=lambda: 1.0), slept


@pytest.fixture
def moto(moto_kms: kms.MotoKms, monkeypatch: pytest.MonkeyPatch) -> kms.MotoKms:
    kms.set_env(monkeypatch, moto_kms.env())
    return moto_kms


@pytest.fixture
def proxy(moto: kms.MotoKms, monkeypatch: pytest.MonkeyPatch) -> Iterator[kms_proxy.KmsProxy]:
    port = urllib.parse.urlsplit(moto.endpoint).port
    assert port is not None
    with kms_proxy.running(port) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", running.url)
        yield running


@given(st.one_of(UUID, ALIAS, ARN, st.just("mrk-" + "0a" * 16)))
def test_uri_round_trip(name: str) -> None:
    provider = registry.for_uri("aws-kms://" + name)
    assert isinstance(provider, aws_kms.AwsKmsProvider)
    assert provider.key == name and provider.uri == "aws-kms://" + name


@given(st.text(max_size=80))
def test_uri_parser_accepts_only_the_three_forms(text: str) -> None:
    try:
        name = aws_kms.parse_uri("aws-kms://" + text)
    except errors.InvalidKeyUri as exc:
        assert exc.exit_code == root_errors.ExitCode.USAGE
        assert aws_kms.KEY_NAME.fullmatch(text) is None
    else:
        assert name == text and aws_kms.KEY_NAME.fullmatch(text) is not None


@pytest.mark.parametrize(
    "uri",
    ["aws-kms://", "aws-kms://alias/", "aws-kms://key/1234", "aws-kms://arn:aws:kms:x:1:key/y",
     "hcvault://alias/x", "aws-kms://alias/a b", "aws-kms://ALIAS/x"],
)  # fmt: skip
def test_malformed_uris_are_usage_errors(uri: str) -> None:
    with pytest.raises(errors.InvalidKeyUri):
        aws_kms.parse_uri(uri)


@pytest.mark.parametrize("form", ["id", "arn", "alias", "alias-arn"])
def test_wrap_with_the_key_by_id_arn_or_alias(moto: kms.MotoKms, form: str) -> None:
    alias_arn = moto.key_arn.split(":key/")[0] + ":" + moto.alias
    name = {"id": moto.key_id, "arn": moto.key_arn, "alias": moto.alias, "alias-arn": alias_arn}
    provider = aws_kms.AwsKmsProvider.from_uri("aws-kms://" + name[form])
    wrapped = provider.wrap(SECRET, CONTEXT)
    fields = provider.fields()
    assert fields == {"uri": "aws-kms://" + name[form], "keyArn": moto.key_arn}
    opener = aws_kms.AwsKmsProvider.for_slot(fields, base.Credentials())
    assert opener.key_arn == moto.key_arn
    assert opener.unwrap(wrapped, CONTEXT) == SECRET


def test_fields_before_wrap_ask_for_the_arn(moto: kms.MotoKms) -> None:
    assert aws_kms.AwsKmsProvider(moto.alias).fields()["keyArn"] == moto.key_arn


def test_context_is_sent_as_a_flat_string_map() -> None:
    assert aws_kms.encryption_context(CONTEXT) == {
        "format": "strongroom.io/keyslot/v1", "purpose": "keyring", "repository": "r1",
        "slot": "s1",
    }  # fmt: skip
    for bad in [b"[]", b"{", b'{"slot":"s1"}', CONTEXT.replace(b'"r1"', b"1")]:
        with pytest.raises(errors.CryptoError, match="not a keyslot context"):
            aws_kms.encryption_context(bad)


@pytest.mark.parametrize(
    "fields",
    [{}, {"uri": "aws-kms://alias/x"}, {"uri": "aws-kms://alias/x", "keyArn": "alias/x"},
     {"uri": "gcp-kms://x", "keyArn": "arn:aws:kms:us-east-1:123456789012:key/" + "0" * 8
      + "-0000-0000-0000-" + "0" * 12},
     {"uri": 1, "keyArn": "x"}],
)  # fmt: skip
def test_malformed_slot_fields_are_integrity_errors(fields: dict[str, object]) -> None:
    with pytest.raises(errors.IntegrityError):
        aws_kms.AwsKmsProvider.for_slot(fields, base.Credentials())


def test_unknown_key_is_denied_naming_the_slot(moto: kms.MotoKms) -> None:
    with pytest.raises(
        errors.KeyServiceDenied, match=r"aws-kms://alias/missing \(slot s1\)"
    ) as info:
        aws_kms.AwsKmsProvider("alias/missing").wrap(SECRET, CONTEXT)
    assert info.value.exit_code == root_errors.ExitCode.PERMISSION_DENIED
    assert "not found" in str(info.value) and kms.SECRET_ACCESS_KEY not in str(info.value)
    wrapped = aws_kms.AwsKmsProvider(moto.alias).wrap(SECRET, CONTEXT)
    gone = moto.key_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(errors.KeyServiceDenied, match="slot s1"):
        aws_kms.AwsKmsProvider(gone, key_arn=gone).unwrap(wrapped, CONTEXT)


def test_a_keyring_over_4_kib_is_refused_without_a_call(proxy: kms_proxy.KmsProxy) -> None:
    provider = aws_kms.AwsKmsProvider("alias/strongroom-test")
    with pytest.raises(errors.KeyServiceError, match="4096"):
        provider.wrap(b"x" * 4097, CONTEXT)
    assert proxy.count == 0
    assert provider.unwrap(provider.wrap(b"x" * 4096, CONTEXT), CONTEXT) == b"x" * 4096


def test_wrap_and_unwrap_are_one_kms_call_each(
    moto: kms.MotoKms, proxy: kms_proxy.KmsProxy
) -> None:
    provider = aws_kms.AwsKmsProvider(moto.alias)
    wrapped = provider.wrap(SECRET, CONTEXT)
    assert proxy.count == 1
    fields = provider.fields()  # the ARN came back with Encrypt: no DescribeKey
    assert proxy.count == 1
    opener = aws_kms.AwsKmsProvider.for_slot(fields, base.Credentials())
    assert opener.unwrap(wrapped, CONTEXT) == SECRET
    assert proxy.count == 2
    opener.rewrap(wrapped, CONTEXT)
    assert proxy.count == 3
    assert all(line.startswith("POST ") for line in proxy.requests)


def test_rewrap_after_rotation(moto: kms.MotoKms) -> None:
    admin = moto.admin()
    arn = admin.create_key(Description="rotated")["KeyMetadata"]["Arn"]
    provider = aws_kms.AwsKmsProvider(arn)
    wrapped = provider.wrap(SECRET, CONTEXT)
    admin.rotate_key_on_demand(KeyId=arn)
    rewrapped = aws_kms.AwsKmsProvider.for_slot(provider.fields(), base.Credentials()).rewrap(
        wrapped, CONTEXT
    )
    assert rewrapped != wrapped and SECRET not in rewrapped
    assert provider.unwrap(rewrapped, CONTEXT) == SECRET
    with pytest.raises(errors.IntegrityError):
        provider.rewrap(wrapped, CONTEXT.replace(b"s1", b"s2"))


def test_rewrap_moves_a_slot_to_another_key(moto: kms.MotoKms) -> None:
    old = aws_kms.AwsKmsProvider(moto.key_arn, key_arn=moto.key_arn)
    wrapped = old.wrap(SECRET, CONTEXT)
    new = aws_kms.AwsKmsProvider(moto.other_key_arn, key_arn=moto.key_arn)
    moved = new.rewrap(wrapped, CONTEXT)
    assert new.fields()["keyArn"] == moto.key_arn  # recorded source until the slot is rewritten
    opener = aws_kms.AwsKmsProvider(moto.other_key_arn, key_arn=moto.other_key_arn)
    assert opener.unwrap(moved, CONTEXT) == SECRET


def test_unreachable_endpoint_fails_fast_naming_the_slot(
    monkeypatch: pytest.MonkeyPatch, moto_kms: kms.MotoKms
) -> None:
    kms.set_env(
        monkeypatch,
        {**moto_kms.env(), "AWS_ENDPOINT_URL_KMS": f"http://127.0.0.1:{ports.free_port()}"},
    )
    start = time.monotonic()
    with pytest.raises(
        errors.KeyServiceUnreachable, match=r"alias/strongroom-test \(slot s1\)"
    ) as info:
        aws_kms.AwsKmsProvider(moto_kms.alias).wrap(SECRET, CONTEXT)
    elapsed = time.monotonic() - start
    assert info.value.exit_code == root_errors.ExitCode.UNREACHABLE
    assert "4 attempts" in str(info.value)
    assert elapsed < 5, elapsed


def test_hung_endpoint_fails_within_the_budget(
    monkeypatch: pytest.MonkeyPatch, moto_kms: kms.MotoKms
) -> None:
    with kms_proxy.silent_port() as port:
        kms.set_env(
            monkeypatch, {**moto_kms.env(), "AWS_ENDPOINT_URL_KMS": f"http://127.0.0.1:{port}"}
        )
        start = time.monotonic()
        with pytest.raises(errors.KeyServiceUnreachable, match="slot s1"):
            aws_kms.AwsKmsProvider(moto_kms.alias).wrap(SECRET, CONTEXT)
    assert time.monotonic() - start < 5


def test_the_budget_stops_retries_early() -> None:
    now = [0.0]
    slept: list[float] = []

    def slow() -> int:
        now[0] += 1.5
        raise _kmscall.Retry("slow")

    backoff = _kmscall.Backoff(clock=lambda: now[0], sleep=slept.append, jitter=lambda: 1.0)
    with pytest.raises(_kmscall.Retry):
        backoff.run(slow)
    assert slept == [0.2] and now[0] == 3.0


@pytest.mark.parametrize(
    "failure", [kms_proxy.AWS_THROTTLED, kms_proxy.AWS_TOO_MANY, kms_proxy.UNAVAILABLE]
)
def test_busy_answers_are_retried_then_succeed(
    moto: kms.MotoKms, proxy: kms_proxy.KmsProxy, failure: kms_proxy.Reply
) -> None:
    backoff, slept = _no_wait()
    provider = aws_kms.AwsKmsProvider(moto.alias, backoff=backoff)
    proxy.fail_next(failure, failure, failure)
    wrapped = provider.wrap(SECRET, CONTEXT)
    assert proxy.count == 4 and slept == [0.2, 0.4, 0.8]
    proxy.fail_next(failure)
    assert provider.unwrap(wrapped, CONTEXT) == SECRET
    assert proxy.count == 6


def test_busy_beyond_the_bound_is_unreachable(moto: kms.MotoKms, proxy: kms_proxy.KmsProxy) -> None:
    backoff, slept = _no_wait()
    proxy.fail_next(*[kms_proxy.AWS_THROTTLED] * 5)
    with pytest.raises(errors.KeyServiceUnreachable, match=r"slot s1.*ThrottlingException"):
        aws_kms.AwsKmsProvider(moto.alias, backoff=backoff).wrap(SECRET, CONTEXT)
    assert proxy.count == 4 and len(slept) == 3


def test_jitter_scales_each_delay_below_its_bound() -> None:
    slept: list[float] = []
    backoff = _kmscall.Backoff(
        attempts=6, first=0.5, cap=3.0, sleep=slept.append, jitter=lambda: 0.5
    )
    assert backoff.delays() == (0.5, 1.0, 2.0, 3.0, 3.0)

    def busy() -> int:
        raise _kmscall.Retry("busy")

    with pytest.raises(_kmscall.Retry):
        backoff.run(busy)
    assert slept == [0.25, 0.5, 1.0, 1.5, 1.5]


def test_region_from_aws_region_and_endpoint_from_aws_endpoint_url(
    moto_kms: kms.MotoKms, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        k: v
        for k, v in moto_kms.env().items()
        if k not in {"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_KMS"}
    }
    kms.set_env(monkeypatch, env)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_KMS", raising=False)
    monkeypatch.setenv("AWS_REGION", kms.REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_kms.endpoint)
    provider = aws_kms.AwsKmsProvider(moto_kms.alias)
    assert provider.unwrap(provider.wrap(SECRET, CONTEXT), CONTEXT) == SECRET


def test_no_region_is_a_clear_error(moto_kms: kms.MotoKms, monkeypatch: pytest.MonkeyPatch) -> None:
    kms.set_env(monkeypatch, moto_kms.env())
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(errors.KeyServiceError, match="region"):
        aws_kms.AwsKmsProvider(moto_kms.alias).wrap(SECRET, CONTEXT)
