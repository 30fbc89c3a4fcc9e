"""Known-answer vectors: Strongroom reproduces them, and independent implementations agree.

Anchors: Debian's ``age`` decrypts every age vector and the age keyslot, ``age-keygen -y``
derives the repository recipient, ``openssl kdf HKDF`` reproduces every subkey, and Debian's
``argon2`` (the reference implementation) reproduces every Argon2id output and the passphrase
slot's KEK.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import pathlib
import shutil
import subprocess
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import aead

from strongroom.crypto import ageformat, agekeys, kdf
from strongroom.crypto.providers import age_x25519, base, passphrase
from strongroom.repository import documents, keyring, keyslots
from tests.kat import generate

HERE = pathlib.Path(__file__).parent
AGE = json.loads((HERE / "age.json").read_text())
SUBKEYS = json.loads((HERE / "subkeys.json").read_text())
ARGON2 = json.loads((HERE / "argon2id.json").read_text())
SLOTS = json.loads((HERE / "keyslots.json").read_text())
SLOTS_V2 = json.loads((HERE / "keyslots-v2.json").read_text())


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required for the known-answer anchors (make debian-packages)")
    return path


def _sealed(vector: dict[str, Any]) -> bytes:
    recipients = [agekeys.Recipient.parse(r) for r in vector["recipients"]]
    plaintext = generate.stream("plaintext", vector["plaintext_size"])
    rng = generate.Replay(bytes.fromhex(vector["rng"]))
    return ageformat.encrypt_bytes(recipients, bytes.fromhex(vector["bind"]), plaintext, rng=rng)


def _age_decrypt(identities: list[str], sealed: bytes, tmp_path: pathlib.Path) -> bytes:
    key_file = tmp_path / "identities.txt"
    key_file.write_text("".join(line + "\n" for line in identities))
    return subprocess.run(
        [_tool("age"), "-d", "-i", str(key_file)], input=sealed, capture_output=True, check=True
    ).stdout


def test_vectors_cover_the_required_cases() -> None:
    sizes = {v["plaintext_size"] for v in AGE}
    chunk = ageformat.CHUNK_SIZE
    assert {0, 1, chunk, chunk + 1} <= sizes and max(sizes) >= 200 * 1024
    assert max(len(v["recipients"]) for v in AGE) >= 3


@pytest.mark.parametrize("vector", AGE, ids=[v["name"] for v in AGE])
def test_age_vector_reproduces(vector: dict[str, Any]) -> None:
    sealed = _sealed(vector)
    assert len(sealed) == vector["ciphertext_size"]
    assert hashlib.sha256(sealed).hexdigest() == vector["ciphertext_sha256"]
    if "ciphertext" in vector:
        assert sealed.hex() == vector["ciphertext"]


@pytest.mark.parametrize("vector", AGE, ids=[v["name"] for v in AGE])
def test_age_vector_opens_with_ours_and_with_debian_age(
    vector: dict[str, Any], tmp_path: pathlib.Path
) -> None:
    sealed = bytes.fromhex(vector["ciphertext"]) if "ciphertext" in vector else _sealed(vector)
    assert hashlib.sha256(sealed).hexdigest() == vector["ciphertext_sha256"]
    for text in vector["identities"]:
        plain = ageformat.decrypt_bytes(
            [agekeys.Identity.parse(text)], bytes.fromhex(vector["bind"]), sealed
        )
        assert hashlib.sha256(plain).hexdigest() == vector["plaintext_sha256"]
        by_age = _age_decrypt([text], sealed, tmp_path)
        assert hashlib.sha256(by_age).hexdigest() == vector["plaintext_sha256"]


def test_age_vector_bind_stanza_is_first_and_carries_the_bind() -> None:
    for vector in AGE:
        header = ageformat.read_header(io.BytesIO(_sealed(vector)))
        first = header.stanzas[0]
        assert first.type == ageformat.BIND_STANZA and first.body == b""
        assert base64.b64decode(first.args[0] + "=") == bytes.fromhex(vector["bind"])


def test_subkeys_match_ours_and_openssl() -> None:
    epoch_key = bytes.fromhex(SUBKEYS["epoch_key"])
    repository_id = bytes.fromhex(SUBKEYS["repository_id"])
    assert set(SUBKEYS["subkeys"]) == set(kdf.PURPOSES)
    for purpose, expected in SUBKEYS["subkeys"].items():
        assert kdf.subkey(epoch_key, repository_id, purpose).hex() == expected
        out = subprocess.run(
            [_tool("openssl"), "kdf", "-keylen", "32", "-kdfopt", "digest:SHA256"]
            + ["-kdfopt", f"hexkey:{epoch_key.hex()}", "-kdfopt", f"hexsalt:{repository_id.hex()}"]
            + ["-kdfopt", f"info:strongroom.io/v1/{purpose}", "HKDF"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.strip().replace(":", "").lower() == expected


def test_repository_recipient_matches_ours_and_age_keygen() -> None:
    identity = kdf.recipient_identity(
        bytes.fromhex(SUBKEYS["epoch_key"]), bytes.fromhex(SUBKEYS["repository_id"])
    )
    assert identity.encode() == SUBKEYS["recipient_identity"]
    assert identity.secret.hex() == SUBKEYS["subkeys"]["recipient"]
    out = subprocess.run(
        [_tool("age-keygen"), "-y"],
        input=SUBKEYS["recipient_identity"] + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == SUBKEYS["recipient"] == identity.recipient().encode()


def _reference_argon2(
    passphrase: bytes, salt: str, memory: int, iterations: int, lanes: int
) -> str:
    out = subprocess.run(
        [_tool("argon2"), salt, "-id", "-t", str(iterations), "-k", str(memory)]
        + ["-p", str(lanes), "-l", "32", "-r"],
        input=passphrase,
        capture_output=True,
        check=True,
    ).stdout
    return out.decode().strip()


@pytest.mark.parametrize("vector", ARGON2, ids=lambda v: f"m{v['memory_kib']}-l{v['lanes']}")
def test_argon2id_matches_ours_and_the_reference(vector: dict[str, Any]) -> None:
    secret, salt = bytes.fromhex(vector["passphrase"]), vector["salt"]
    params = (vector["memory_kib"], vector["iterations"], vector["lanes"])
    ours = kdf.argon2id(
        secret, salt.encode(), memory_kib=params[0], iterations=params[1], lanes=params[2]
    )
    assert ours.hex() == vector["key"] == _reference_argon2(secret, salt, *params)


def test_passphrase_slot_vector() -> None:
    vector = SLOTS["passphrase"]
    keyring, context = SLOTS["keyring"].encode(), vector["context"].encode()
    secret = bytes.fromhex(vector["passphrase"])
    params, salt = passphrase.parse_kdf(vector["fields"]["kdf"])
    rng = generate.Replay(bytes.fromhex(vector["nonce"]))
    provider = passphrase.PassphraseProvider(secret, params, salt, rng=rng)
    assert provider.fields() == vector["fields"]
    wrapped = base64.b64decode(vector["wrapped"])
    assert provider.wrap(keyring, context) == wrapped
    opener = passphrase.PassphraseProvider.for_slot(
        vector["fields"], base.Credentials(passphrases=(secret,))
    )
    assert opener is not None and opener.unwrap(wrapped, context) == keyring
    kek = _reference_argon2(
        secret, salt.decode(), params.memory_kib, params.iterations, params.lanes
    )
    independent = aead.AESGCM(bytes.fromhex(kek)).decrypt(wrapped[:12], wrapped[12:], context)
    assert independent == keyring


def test_age_slot_vector(tmp_path: pathlib.Path) -> None:
    vector = SLOTS["age-x25519"]
    keyring, context = SLOTS["keyring"].encode(), vector["context"].encode()
    identity = agekeys.Identity.parse(vector["identity"])
    rng = generate.Replay(bytes.fromhex(vector["rng"]))
    provider = age_x25519.AgeX25519Provider(identity.recipient(), rng=rng)
    assert provider.fields() == vector["fields"]
    wrapped = base64.b64decode(vector["wrapped"])
    assert provider.wrap(keyring, context) == wrapped
    opener = age_x25519.AgeX25519Provider.for_slot(
        vector["fields"], base.Credentials(identities=(identity,))
    )
    assert opener is not None and opener.unwrap(wrapped, context) == keyring
    assert _age_decrypt([vector["identity"]], wrapped, tmp_path) == keyring
    bind = ageformat.read_header(io.BytesIO(wrapped)).stanzas[0].args[0]
    assert base64.b64decode(bind + "=") == hashlib.sha256(context).digest()


def test_v2_keyslot_vector_opens_verifies_and_fingerprints(tmp_path: pathlib.Path) -> None:
    vector = SLOTS_V2
    repository = documents.Id(generate._repository())
    slot_id = json.loads(vector["slot"])["slot"]
    slot = keyslots.parse(vector["slot"].encode(), keyslots.PREFIX + slot_id, repository)
    identity = agekeys.Identity.parse(vector["identity"])
    opener = age_x25519.AgeX25519Provider.for_slot(
        slot.fields, base.Credentials(identities=(identity,))
    )
    assert opener is not None
    data = opener.unwrap(slot.wrapped, slot.context(repository))
    assert data == vector["keyring"].encode()
    assert _age_decrypt([vector["identity"]], slot.wrapped, tmp_path) == data
    ring = keyring.Keyring.from_bytes(data, repository, slot.name)
    assert ring.to_bytes() == data, "the keyring round-trips byte for byte"
    assert slot.epoch == ring.current.number == 2 and slot.mac_verifies(ring)
    assert [ring.fingerprint(n) for n in (1, 2)] == vector["fingerprints"]
    altered = vector["slot"].replace('"label":"kat"', '"label":"kaT"').encode()
    assert not keyslots.parse(altered, slot.name, repository).mac_verifies(ring)


def test_generator_reproduces_the_stored_files() -> None:
    assert [generate.age_vector(*case) for case in generate.AGE_CASES] == AGE
    assert generate.subkey_vectors() == SUBKEYS
    assert generate.argon2_vectors() == ARGON2
    assert generate.slot_vectors() == SLOTS
    assert generate.keyslot_v2_vectors() == SLOTS_V2
