"""The strict header parser: grammar rules, limits, and property tests on arbitrary input."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.crypto import _ageheader, ageformat, agekeys, errors
from tests.crypto import agefiles

MAC_LINE = b"--- " + _ageheader.b64encode(bytes(32)) + b"\n"
SHARE = _ageheader.b64encode(bytes(range(1, 33)))
GOOD_X25519 = b"-> X25519 " + SHARE + b"\n" + _ageheader.b64encode(bytes(32)) + b"\n"


def _header(*lines: bytes) -> bytes:
    return b"age-encryption.org/v1\n" + b"".join(lines) + MAC_LINE


def _parse(data: bytes) -> ageformat.Header:
    return ageformat.read_header(io.BytesIO(data))


def test_minimal_header_parses() -> None:
    header = _parse(_header(GOOD_X25519) + b"payload")
    assert [s.type for s in header.stanzas] == ["X25519"]
    assert header.length == len(_header(GOOD_X25519))


def test_unknown_stanzas_with_any_arguments_and_bodies_are_kept() -> None:
    body = _ageheader.b64encode(bytes(100))
    lines = b"-> grease-x !@#$ a\n" + body[:64] + b"\n" + body[64:128] + b"\n" + body[128:] + b"\n"
    header = _parse(_header(lines, GOOD_X25519))
    assert header.stanzas[0] == _ageheader.Stanza("grease-x", ("!@#$", "a"), bytes(100))


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b"age-encryption.org/v2\n" + GOOD_X25519 + MAC_LINE, id="version"),
        pytest.param(_header(), id="no-stanza"),
        pytest.param(_header(b"->\n\n", GOOD_X25519), id="no-type"),
        pytest.param(_header(b"-> \n\n", GOOD_X25519), id="empty-type"),
        pytest.param(_header(b"-> a  b\n\n", GOOD_X25519), id="double-space"),
        pytest.param(_header(b"-> a \n\n", GOOD_X25519), id="trailing-space"),
        pytest.param(_header(b"-> a\xff\n\n", GOOD_X25519), id="non-ascii-arg"),
        pytest.param(_header(b"->a\n\n", GOOD_X25519), id="no-space"),
        pytest.param(_header(b"-> a\r\n\n", GOOD_X25519), id="crlf"),
        pytest.param(_header(b"-> a\n" + b"A" * 64 + b"\n"), id="body-then-mac"),
        pytest.param(_header(b"-> a\n" + b"A" * 65 + b"\n\n", GOOD_X25519), id="65-columns"),
        pytest.param(_header(b"-> a\nAAA=\n", GOOD_X25519), id="padded-b64"),
        pytest.param(_header(b"-> a\nAB\n", GOOD_X25519), id="non-canonical-b64"),
        pytest.param(_header(b"-> a\nA\n", GOOD_X25519), id="impossible-b64-length"),
        pytest.param(_header(b"-> a\nA A\n", GOOD_X25519), id="space-in-body"),
        pytest.param(
            _header(b"-> X25519\n" + _ageheader.b64encode(bytes(32)) + b"\n"), id="x-no-share"
        ),
        pytest.param(
            _header(b"-> X25519 " + SHARE + b" extra\n" + _ageheader.b64encode(bytes(32)) + b"\n"),
            id="x-two-args",
        ),
        pytest.param(
            _header(b"-> X25519 " + SHARE[:-2] + b"\n" + _ageheader.b64encode(bytes(32)) + b"\n"),
            id="x-short-share",
        ),
        pytest.param(
            _header(b"-> X25519 " + SHARE + b"\n" + _ageheader.b64encode(bytes(31)) + b"\n"),
            id="x-body-31",
        ),
        pytest.param(
            _header(b"-> X25519 " + SHARE + b"\n" + _ageheader.b64encode(bytes(33)) + b"\n"),
            id="x-body-33",
        ),
        pytest.param(b"age-encryption.org/v1\n" + GOOD_X25519 + b"---\n", id="mac-missing"),
        pytest.param(b"age-encryption.org/v1\n" + GOOD_X25519 + b"--- AAAA\n", id="mac-short"),
        pytest.param(b"age-encryption.org/v1\n" + GOOD_X25519 + b"---x" + MAC_LINE[3:], id="mac-x"),
        pytest.param(b"age-encryption.org/v1\n" + GOOD_X25519, id="eof-before-mac"),
        pytest.param(b"age-encryption.org/v1\n" + GOOD_X25519 + b"junk\n" + MAC_LINE, id="junk"),
    ],
)
def test_malformed_headers_are_integrity_errors(bad: bytes) -> None:
    with pytest.raises(errors.IntegrityError):
        _parse(bad)


def test_at_most_32_stanzas() -> None:
    assert len(_parse(_header(*[GOOD_X25519] * 32)).stanzas) == 32
    with pytest.raises(errors.IntegrityError, match="32"):
        _parse(_header(*[GOOD_X25519] * 33))


def test_header_at_most_64_kib() -> None:
    def big(body_len: int) -> bytes:
        text = _ageheader.b64encode(bytes(body_len))
        lines = [text[i : i + 64] for i in range(0, len(text), 64)]
        if len(lines[-1]) == 64:
            lines.append(b"")
        return _header(b"-> big\n" + b"".join(x + b"\n" for x in lines), GOOD_X25519)

    fits = big(47000)
    assert len(fits) <= 64 * 1024
    _parse(fits + bytes(100000))
    too_big = big(49000)
    assert len(too_big) > 64 * 1024
    with pytest.raises(errors.IntegrityError, match="longer"):
        _parse(too_big)
    with pytest.raises(errors.IntegrityError):
        _parse(b"age-encryption.org/v1\n-> " + b"a" * 70000 + b"\n")


def test_low_order_share_is_refused(alice: agekeys.Identity, bind: bytes) -> None:
    header = _header(
        b"-> X25519 "
        + _ageheader.b64encode(bytes(32))
        + b"\n"
        + _ageheader.b64encode(bytes(32))
        + b"\n"
    )
    with pytest.raises(errors.IntegrityError):
        ageformat.decrypt_bytes([alice], None, header + bytes(40))


_arg = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=8
)
_stanza = st.builds(
    _ageheader.Stanza,
    type=_arg.filter(lambda t: t not in ("X25519", ageformat.BIND_STANZA)),
    args=st.lists(_arg, max_size=3).map(tuple),
    body=st.binary(max_size=200),
)


@given(st.lists(_stanza, min_size=1, max_size=32))
def test_encode_parse_round_trip(stanzas: list[_ageheader.Stanza]) -> None:
    data = _ageheader.encode(stanzas, bytes(32))
    header = _parse(data + b"rest")
    assert list(header.stanzas) == stanzas
    assert header.length == len(data)
    assert header.mac_input == data[: data.rindex(b"---") + 3]


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_crypto_errors(data: bytes) -> None:
    with contextlib.suppress(errors.CryptoError):
        _parse(data)
    with contextlib.suppress(errors.CryptoError):
        ageformat.decrypt_bytes([agekeys.Identity.from_secret(bytes(32))], None, data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_real_files_raise_only_crypto_errors(data: st.DataObject) -> None:
    alice = agekeys.Identity.from_secret(bytes(range(32)))
    sealed = ageformat.encrypt_bytes(
        [alice.recipient()], bytes(32), b"hello" * 20, rng=agefiles.FixedRandom(b"m")
    )
    index = data.draw(st.integers(0, len(sealed) - 1))
    replacement = data.draw(st.binary(max_size=3))
    cut = data.draw(st.integers(0, 3))
    mutated = sealed[:index] + replacement + sealed[index + cut :]
    try:
        plain = ageformat.decrypt_bytes([alice], bytes(32), mutated)
    except errors.CryptoError:
        return
    assert mutated == sealed and plain == b"hello" * 20
