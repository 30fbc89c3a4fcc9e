"""Every tamper case on an age file is refused, and no plaintext of a tampered chunk escapes."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import pytest

from strongroom.crypto import _ageheader, ageformat, agekeys, errors
from tests.crypto import agefiles

CHUNK = ageformat.CHUNK_SIZE
CT = agefiles.CHUNK_CT
SEED = b"tamper"
DATA = hashlib.shake_256(b"plaintext").digest(2 * CHUNK + 1000)  # chunks: full, full, 1000


@pytest.fixture
def sealed(alice: agekeys.Identity, bob: agekeys.Identity, bind: bytes) -> bytes:
    recipients = [bob.recipient(), alice.recipient()]
    return ageformat.encrypt_bytes(recipients, bind, DATA, rng=agefiles.FixedRandom(SEED))


def _file_key() -> bytes:
    return agefiles.FixedRandom(SEED)(16)


def _refused(identity: agekeys.Identity, bind: bytes | None, data: bytes) -> list[bytes]:
    """Decrypt until the error; return what was yielded before it (must raise IntegrityError)."""
    yielded: list[bytes] = []
    with pytest.raises(errors.IntegrityError) as info:
        for chunk in ageformat.decrypt([identity], bind, io.BytesIO(data)):
            yielded.append(chunk)
    assert info.value.exit_code == 4
    assert "\n" not in str(info.value)
    return yielded


def test_untampered_file_opens(sealed: bytes, alice: agekeys.Identity, bind: bytes) -> None:
    assert ageformat.decrypt_bytes([alice], bind, sealed) == DATA


def test_every_header_byte_flipped(
    sealed: bytes, alice: agekeys.Identity, bob: agekeys.Identity, bind: bytes
) -> None:
    header, head, _ = agefiles.split(sealed)
    own = header.stanzas[2].encode()  # alice's stanza: changing it can only mean "not for alice"
    own_start = head.index(own)
    for index in range(len(head)):
        tampered = agefiles.flip(sealed, index)
        if own_start <= index < own_start + len(own):
            with pytest.raises((errors.IntegrityError, errors.NoMatchingIdentity)):
                next(ageformat.decrypt([alice], bind, io.BytesIO(tampered)))
        else:
            assert _refused(alice, bind, tampered) == [], index


def test_every_mac_bit(sealed: bytes, alice: agekeys.Identity, bind: bytes) -> None:
    _, head, _ = agefiles.split(sealed)
    mac_start = head.rindex(b"--- ") + 4
    for index in range(mac_start, len(head) - 1):
        for mask in (0x01, 0x02, 0x04, 0x08):
            tampered = agefiles.flip(sealed, index, mask)
            assert _refused(alice, bind, tampered) == []


def test_nonce_flipped(sealed: bytes, alice: agekeys.Identity, bind: bytes) -> None:
    _, head, _ = agefiles.split(sealed)
    for index in range(len(head), len(head) + 16):
        assert _refused(alice, bind, agefiles.flip(sealed, index)) == []


@pytest.mark.parametrize("chunk", [0, 1, 2])
@pytest.mark.parametrize("where", ["first", "middle", "tag"])
def test_payload_chunk_flipped(
    sealed: bytes, alice: agekeys.Identity, bind: bytes, chunk: int, where: str
) -> None:
    _, head, _ = agefiles.split(sealed)
    start = len(head) + 16 + chunk * CT
    length = min(CT, len(sealed) - start)
    offset = {"first": 0, "middle": length // 2, "tag": length - 1}[where]
    yielded = _refused(alice, bind, agefiles.flip(sealed, start + offset))
    assert b"".join(yielded) == DATA[: chunk * CHUNK]


def _cut_points(sealed: bytes) -> list[int]:
    _, head, _ = agefiles.split(sealed)
    body = len(head) + 16
    points = [len(head) - 1, len(head), len(head) + 8, body, body + 1, body + CT // 2]
    points += [body + CT - 1, body + CT, body + CT + 1, body + 2 * CT, body + 2 * CT + 500]
    return [*points, len(sealed) - 1]


def test_truncation_at_every_boundary_and_mid_chunk(
    sealed: bytes, alice: agekeys.Identity, bind: bytes
) -> None:
    for cut in _cut_points(sealed):
        yielded = _refused(alice, bind, sealed[:cut])
        assert len(b"".join(yielded)) <= len(DATA) - 1000, cut


def test_truncation_inside_the_header(sealed: bytes, alice: agekeys.Identity, bind: bytes) -> None:
    _, head, _ = agefiles.split(sealed)
    for cut in range(0, len(head), 7):
        assert _refused(alice, bind, sealed[:cut]) == []


def _chunks(sealed: bytes) -> tuple[bytes, list[bytes]]:
    _, head, _ = agefiles.split(sealed)
    prefix = sealed[: len(head) + 16]
    body = sealed[len(prefix) :]
    return prefix, [body[i : i + CT] for i in range(0, len(body), CT)]


def test_dropped_and_swapped_chunks(sealed: bytes, alice: agekeys.Identity, bind: bytes) -> None:
    prefix, (c0, c1, c2) = _chunks(sealed)
    for body in (c0 + c2, c1 + c2, c1 + c0 + c2, c0 + c2 + c1, c0 + c1, c0 + c1 + c1 + c2):
        _refused(alice, bind, prefix + body)


@pytest.mark.parametrize("extra", [b"\x00", bytes(16), bytes(17), bytes(CT), bytes(CT + 1)])
def test_appended_bytes(sealed: bytes, alice: agekeys.Identity, bind: bytes, extra: bytes) -> None:
    yielded = _refused(alice, bind, sealed + extra)
    assert len(b"".join(yielded)) < len(DATA)


def _payload(file_key: bytes, nonce: bytes, chunks: list[tuple[bytes, bool]]) -> bytes:
    cipher = agefiles.payload_cipher(file_key, nonce)
    out = nonce
    for counter, (plain, last) in enumerate(chunks):
        out += cipher.encrypt(counter.to_bytes(11, "big") + bytes([last]), plain, None)
    return out


def _rebuilt(sealed: bytes, chunks: list[tuple[bytes, bool]]) -> bytes:
    header, head, rest = agefiles.split(sealed)
    payload = _payload(_file_key(), rest[:16], chunks)
    return agefiles.with_stanzas(list(header.stanzas), _file_key(), payload)


def test_rebuilt_payload_helper_matches(sealed: bytes) -> None:
    parts = [(DATA[:CHUNK], False), (DATA[CHUNK : 2 * CHUNK], False), (DATA[2 * CHUNK :], True)]
    assert _rebuilt(sealed, parts) == sealed


def test_appended_extra_authentic_chunk(
    sealed: bytes, alice: agekeys.Identity, bind: bytes
) -> None:
    parts = [(DATA[:CHUNK], False), (DATA[CHUNK : 2 * CHUNK], False), (DATA[2 * CHUNK :], True)]
    _refused(alice, bind, _rebuilt(sealed, [*parts, (b"more", True)]))
    _refused(alice, bind, _rebuilt(sealed, [*parts, (b"more", False)]))


def test_empty_final_chunk_after_others(
    sealed: bytes, alice: agekeys.Identity, bind: bytes
) -> None:
    parts = [(DATA[:CHUNK], False), (DATA[CHUNK : 2 * CHUNK], False)]
    yielded = _refused(alice, bind, _rebuilt(sealed, [*parts, (b"", True)]))
    assert b"".join(yielded) == DATA[: 2 * CHUNK]


def test_final_flag_missing_or_early(sealed: bytes, alice: agekeys.Identity, bind: bytes) -> None:
    c0, c1, c2 = DATA[:CHUNK], DATA[CHUNK : 2 * CHUNK], DATA[2 * CHUNK :]
    _refused(alice, bind, _rebuilt(sealed, [(c0, False), (c1, False), (c2, False)]))
    _refused(alice, bind, _rebuilt(sealed, [(c0, True), (c1, False), (c2, True)]))


def _without_bind(sealed: bytes) -> list[_ageheader.Stanza]:
    header, _, _ = agefiles.split(sealed)
    return [s for s in header.stanzas if s.type != ageformat.BIND_STANZA]


def _bind_stanza(value: bytes) -> _ageheader.Stanza:
    return _ageheader.Stanza(ageformat.BIND_STANZA, (_ageheader.b64encode(value).decode(),), b"")


@pytest.mark.parametrize("remac", [True, False])
def test_bind_stanza_removed(
    sealed: bytes, alice: agekeys.Identity, bind: bytes, remac: bool
) -> None:
    _, _, rest = agefiles.split(sealed)
    tampered = agefiles.with_stanzas(_without_bind(sealed), _file_key(), rest, remac=remac)
    with pytest.raises(errors.IntegrityError, match="bind"):
        next(ageformat.decrypt([alice], bind, io.BytesIO(tampered)))
    if remac:  # a correctly MAC'd file without a bind opens only when no bind is expected
        assert ageformat.decrypt_bytes([alice], None, tampered) == DATA


@pytest.mark.parametrize("remac", [True, False])
def test_bind_stanza_changed_or_duplicated(
    sealed: bytes, alice: agekeys.Identity, bind: bytes, remac: bool
) -> None:
    _, _, rest = agefiles.split(sealed)
    others = _without_bind(sealed)
    other = hashlib.sha256(b"another object").digest()
    variants = [
        [_bind_stanza(other), *others],
        [_bind_stanza(bind), _bind_stanza(bind), *others],
        [_bind_stanza(bind), _bind_stanza(other), *others],
        [*others[:1], _bind_stanza(other), *others[1:]],
    ]
    for stanzas in variants:
        tampered = agefiles.with_stanzas(stanzas, _file_key(), rest, remac=remac)
        with pytest.raises(errors.IntegrityError, match="bind"):
            next(ageformat.decrypt([alice], bind, io.BytesIO(tampered)))


def test_expected_bind_differs(sealed: bytes, alice: agekeys.Identity) -> None:
    with pytest.raises(errors.IntegrityError, match="bind"):
        ageformat.decrypt_bytes([alice], hashlib.sha256(b"elsewhere").digest(), sealed)


def test_malformed_bind_stanza(sealed: bytes, alice: agekeys.Identity, bind: bytes) -> None:
    _, _, rest = agefiles.split(sealed)
    arg = _ageheader.b64encode(bind).decode()
    for bad in (
        _ageheader.Stanza(ageformat.BIND_STANZA, (arg,), b"body"),
        _ageheader.Stanza(ageformat.BIND_STANZA, (arg, arg), b""),
        _ageheader.Stanza(ageformat.BIND_STANZA, (_ageheader.b64encode(bind[:31]).decode(),), b""),
    ):
        tampered = agefiles.with_stanzas([bad, *_without_bind(sealed)], _file_key(), rest)
        for expected in (bind, None):
            _refused(alice, expected, tampered)


def test_extra_x25519_stanza_with_31_byte_body(
    sealed: bytes, alice: agekeys.Identity, bind: bytes
) -> None:
    header, _, rest = agefiles.split(sealed)
    short = dataclasses.replace(header.stanzas[1], body=header.stanzas[1].body[:31])
    tampered = agefiles.with_stanzas([*header.stanzas, short], _file_key(), rest)
    assert _refused(alice, bind, tampered) == []
    with pytest.raises(errors.IntegrityError):
        ageformat.read_header(io.BytesIO(tampered))


def test_stanza_for_another_recipient_swapped_in(
    sealed: bytes, alice: agekeys.Identity, bind: bytes
) -> None:
    """A stanza wrapping a different file key for alice: it opens, but the MAC fails."""
    header, _, rest = agefiles.split(sealed)
    other = ageformat.encrypt_bytes([alice.recipient()], bind, b"x")
    foreign = agefiles.split(other)[0].stanzas[1]
    tampered = agefiles.with_stanzas([header.stanzas[0], foreign], _file_key(), rest)
    assert _refused(alice, bind, tampered) == []
