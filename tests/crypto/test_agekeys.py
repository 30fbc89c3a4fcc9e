"""age key text: bech32 encoding, parsing, identity files, and secrets kept out of reprs."""

from __future__ import annotations

import contextlib
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.crypto import _bech32, agekeys, errors

# A fixed secret; `age-keygen -y` independently derives its recipient.
KNOWN_SECRET = bytes(range(32))


def test_identity_round_trip_and_recipient_matches_age_keygen(age_keygen_bin: str) -> None:
    identity = agekeys.Identity.from_secret(KNOWN_SECRET)
    text = identity.encode()
    assert text.startswith("AGE-SECRET-KEY-1") and text == text.upper()
    assert agekeys.Identity.parse(text) == identity
    out = subprocess.run(
        [age_keygen_bin, "-y"], input=text + "\n", capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == identity.recipient().encode()


def test_age_keygen_identity_files_parse(age_keygen_bin: str) -> None:
    for _ in range(3):
        out = subprocess.run([age_keygen_bin], capture_output=True, text=True, check=True)
        public = next(
            line.split(": ", 1)[1]
            for line in (out.stdout + out.stderr).splitlines()
            if line.startswith("# public key: ") or line.startswith("Public key: ")
        )
        (identity,) = agekeys.parse_identity_file(out.stdout)
        assert identity.recipient().encode() == public
        assert agekeys.Recipient.parse(public).encode() == public


def test_identity_file_with_comments_blank_lines_and_several_keys() -> None:
    a, b = agekeys.Identity.generate(), agekeys.Identity.generate()
    text = f"# first\n\n{a.encode()}\n   \n# second\n{b.encode()}\n"
    assert agekeys.parse_identity_file(text) == [a, b]


@pytest.mark.parametrize(
    "text", ["", "# only a comment\n", "AGE-SECRET-KEY-1QQQ\n", "age1abc\n", "garbage\n"]
)
def test_bad_identity_files_raise_invalid_key_text(text: str) -> None:
    with pytest.raises(errors.InvalidKeyText) as info:
        agekeys.parse_identity_file(text)
    assert info.value.exit_code == 2


def test_repr_and_errors_never_show_the_secret() -> None:
    identity = agekeys.Identity.generate()
    secret_text = identity.encode()
    assert secret_text not in repr(identity) and secret_text not in str(identity)
    assert identity.secret.hex() not in repr(identity)
    broken = secret_text[:-1] + ("Q" if secret_text[-1] != "Q" else "P")
    with pytest.raises(errors.InvalidKeyText) as info:
        agekeys.Identity.parse(broken)
    assert broken not in str(info.value) and secret_text[16:40] not in str(info.value)


def test_case_rules() -> None:
    identity = agekeys.Identity.generate()
    recipient = identity.recipient().encode()
    with pytest.raises(errors.InvalidKeyText):
        agekeys.Recipient.parse(recipient.upper())
    with pytest.raises(errors.InvalidKeyText):
        agekeys.Identity.parse(identity.encode().lower())
    mixed = recipient[:10] + recipient[10:].upper()
    with pytest.raises(errors.InvalidKeyText):
        agekeys.Recipient.parse(mixed)


def test_a_recipient_is_not_an_identity_and_vice_versa() -> None:
    identity = agekeys.Identity.generate()
    with pytest.raises(errors.InvalidKeyText):
        agekeys.Identity.parse(identity.recipient().encode())
    with pytest.raises(errors.InvalidKeyText):
        agekeys.Recipient.parse(identity.encode())


def test_every_single_character_change_breaks_the_checksum() -> None:
    recipient = agekeys.Identity.from_secret(KNOWN_SECRET).recipient().encode()
    for position in range(4, len(recipient)):
        for replacement in "qp":
            if recipient[position] == replacement:
                continue
            changed = recipient[:position] + replacement + recipient[position + 1 :]
            with pytest.raises(errors.InvalidKeyText):
                agekeys.Recipient.parse(changed)


@given(st.binary(min_size=0, max_size=64))
def test_bech32_round_trips(data: bytes) -> None:
    assert _bech32.decode(_bech32.encode("age", data)) == ("age", data)


@given(st.text(max_size=120))
def test_parsers_raise_only_invalid_key_text(text: str) -> None:
    for parse in (agekeys.Recipient.parse, agekeys.Identity.parse):
        with contextlib.suppress(errors.InvalidKeyText):
            parse(text)


@given(st.binary(min_size=32, max_size=32))
def test_recipient_text_round_trips(key: bytes) -> None:
    recipient = agekeys.Recipient(key)
    assert agekeys.Recipient.parse(recipient.encode()) == recipient
