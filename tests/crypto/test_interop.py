"""Interoperability with Debian's ``age`` 1.1.1 in both directions."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

from strongroom.crypto import ageformat, agekeys, errors

CHUNK = ageformat.CHUNK_SIZE
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 200 * 1024]


def _write_identity(tmp_path: pathlib.Path, identity: agekeys.Identity) -> pathlib.Path:
    path = tmp_path / "identity.txt"
    path.write_text(f"# test\n{identity.encode()}\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("size", SIZES)
def test_age_decrypts_ours(
    size: int,
    tmp_path: pathlib.Path,
    age_bin: str,
    alice: agekeys.Identity,
    bob: agekeys.Identity,
    bind: bytes,
) -> None:
    data = os.urandom(size)
    sealed = ageformat.encrypt_bytes([bob.recipient(), alice.recipient()], bind, data)
    out = subprocess.run(
        [age_bin, "-d", "-i", str(_write_identity(tmp_path, alice))],
        input=sealed,
        capture_output=True,
        check=True,
    )
    assert out.stdout == data


def test_age_refuses_our_file_with_a_tampered_bind_stanza(
    tmp_path: pathlib.Path, age_bin: str, alice: agekeys.Identity, bind: bytes
) -> None:
    """Stock age ignores the bind stanza's meaning but its MAC covers the stanza's bytes."""
    sealed = ageformat.encrypt_bytes([alice.recipient()], bind, b"payload")
    index = sealed.index(b"strongroom.io/bind ") + len(b"strongroom.io/bind ") + 5
    tampered = sealed[:index] + (b"A" if sealed[index : index + 1] != b"A" else b"B")
    tampered += sealed[index + 1 :]
    out = subprocess.run(
        [age_bin, "-d", "-i", str(_write_identity(tmp_path, alice))],
        input=tampered,
        capture_output=True,
    )
    assert out.returncode != 0 and out.stdout == b""


@pytest.mark.parametrize("size", SIZES)
def test_we_decrypt_age_output(
    size: int, age_bin: str, alice: agekeys.Identity, bob: agekeys.Identity
) -> None:
    data = os.urandom(size)
    sealed = subprocess.run(
        [age_bin, "-e", "-r", alice.recipient().encode(), "-r", bob.recipient().encode()],
        input=data,
        capture_output=True,
        check=True,
    ).stdout
    assert ageformat.decrypt_bytes([bob], None, sealed) == data
    assert ageformat.decrypt_bytes([alice], None, sealed) == data
    with pytest.raises(errors.IntegrityError, match="bind"):
        ageformat.decrypt_bytes([alice], bytes(32), sealed)


def test_we_decrypt_age_output_made_with_a_keygen_identity(
    tmp_path: pathlib.Path, age_bin: str, age_keygen_bin: str
) -> None:
    key_file = tmp_path / "key.txt"
    subprocess.run([age_keygen_bin, "-o", str(key_file)], capture_output=True, check=True)
    sealed = subprocess.run(
        [age_bin, "-e", "-i", str(key_file)], input=b"hello", capture_output=True, check=True
    ).stdout
    identities = agekeys.parse_identity_file(key_file.read_text())
    assert ageformat.decrypt_bytes(identities, None, sealed) == b"hello"


def test_armored_age_output_is_refused(age_bin: str, alice: agekeys.Identity) -> None:
    sealed = subprocess.run(
        [age_bin, "-e", "-a", "-r", alice.recipient().encode()],
        input=b"x",
        capture_output=True,
        check=True,
    ).stdout
    with pytest.raises(errors.IntegrityError):
        ageformat.decrypt_bytes([alice], None, sealed)
