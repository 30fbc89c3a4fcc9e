"""Regenerate the known-answer vectors in this folder: ``.venv/bin/python tests/kat/generate.py``.

Every input is derived from fixed labels so the output is the same on every run:

- ``stream(label, n)`` = the first ``n`` bytes of SHAKE-256(``"strongroom.io/kat/" + label``);
- age vectors: ``rng`` is the exact byte string the encryptor draws, in ageformat's documented
  order (16-byte file key, one 32-byte ephemeral secret per recipient, 16-byte payload nonce);
  the plaintext is ``stream("plaintext", size)``; identities are ``stream("identity-<i>", 32)``;
- subkeys: epoch key ``stream("epoch-key", 32)``, repository id ``stream("repository-id", 16)``;
- Argon2id and the passphrase slot use ASCII salts so the Debian ``argon2`` CLI can take them;
- the v2 keyslot and the fingerprints are built from the spec with ``hmac``/``hashlib`` and an
  HKDF written out here, not with the product's keyslot or keyring code.

The checks in ``test_kat.py`` recompute every vector with Strongroom *and* with independent
implementations: Debian's ``age`` decrypts each age vector, ``openssl kdf HKDF`` reproduces the
subkeys, Debian's ``argon2`` (the reference C implementation) reproduces the Argon2id outputs.
Regenerating must leave ``git diff tests/kat`` empty unless the format changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import pathlib
from typing import Any

from strongroom.crypto import ageformat, agekeys, kdf
from strongroom.crypto.providers import age_x25519, passphrase

HERE = pathlib.Path(__file__).parent
CHUNK = ageformat.CHUNK_SIZE
#: Ciphertexts up to this size are stored whole (hex); larger ones as SHA-256 and length.
INLINE_LIMIT = 1024
AGE_CASES = [
    ("empty", 0, 1),
    ("one-byte", 1, 1),
    ("one-byte-three-recipients", 1, 3),
    ("exactly-64KiB", CHUNK, 1),
    ("64KiB-plus-1", CHUNK + 1, 2),
    ("200KiB", 200 * 1024, 1),
]
ARGON2_CASES = [
    (b"correct horse battery staple", b"strongroom-salt1", 256, 2, 1),
    (b"\x01 binary \xff\x00 bytes", b"strongroom-salt2", 1024, 3, 2),
    (b"p\xc3\xa4ssw\xc3\xb6rd", b"strongroom-salt3", 64, 1, 8),
]


def stream(label: str, n: int) -> bytes:
    return hashlib.shake_256(("strongroom.io/kat/" + label).encode()).digest(n)


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def identity(index: int) -> agekeys.Identity:
    return agekeys.Identity.from_secret(stream(f"identity-{index}", 32))


class Replay:
    """Hands out a fixed byte string in order, as ``os.urandom`` would hand out random bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def __call__(self, n: int) -> bytes:
        out = self.data[self.position : self.position + n]
        self.position += n
        return out


def age_vector(name: str, size: int, recipients: int) -> dict[str, Any]:
    ids = [identity(i) for i in range(recipients)]
    rng = stream(f"rng-{name}", 16 + 32 * recipients + 16)
    bind = hashlib.sha256(canonical({"kat": name})).digest()
    replay = Replay(rng)
    sealed = ageformat.encrypt_bytes(
        [i.recipient() for i in ids], bind, stream("plaintext", size), rng=replay
    )
    assert replay.position == len(rng)
    vector: dict[str, Any] = {
        "name": name,
        "identities": [i.encode() for i in ids],
        "recipients": [i.recipient().encode() for i in ids],
        "bind": bind.hex(),
        "rng": rng.hex(),
        "plaintext_size": size,
        "plaintext_sha256": hashlib.sha256(stream("plaintext", size)).hexdigest(),
        "ciphertext_size": len(sealed),
        "ciphertext_sha256": hashlib.sha256(sealed).hexdigest(),
    }
    if len(sealed) <= INLINE_LIMIT:
        vector["ciphertext"] = sealed.hex()
    return vector


def subkey_vectors() -> dict[str, Any]:
    epoch_key, repository_id = stream("epoch-key", 32), stream("repository-id", 16)
    repository = kdf.recipient_identity(epoch_key, repository_id)
    return {
        "epoch_key": epoch_key.hex(),
        "repository_id": repository_id.hex(),
        "subkeys": {p: kdf.subkey(epoch_key, repository_id, p).hex() for p in kdf.PURPOSES},
        "recipient_identity": repository.encode(),
        "recipient": repository.recipient().encode(),
    }


def argon2_vectors() -> list[dict[str, Any]]:
    return [
        {
            "passphrase": secret.hex(),
            "salt": salt.decode("ascii"),
            "memory_kib": memory,
            "iterations": iterations,
            "lanes": lanes,
            "key": kdf.argon2id(
                secret, salt, memory_kib=memory, iterations=iterations, lanes=lanes
            ).hex(),
        }
        for secret, salt, memory, iterations, lanes in ARGON2_CASES
    ]


def _repository() -> str:
    return base64.b32encode(stream("repository-id", 16)).decode().rstrip("=").lower()


def _context(slot: str) -> bytes:
    return canonical(
        {
            "format": "strongroom.io/keyslot/v1",
            "purpose": "keyring",
            "repository": _repository(),
            "slot": slot,
        }
    )


def _keyring() -> bytes:
    key = base64.b64encode(stream("epoch-key", 32)).decode()
    return canonical(
        {
            "format": "strongroom.io/keyring/v1",
            "repository": _repository(),
            "epochs": [{"epoch": 1, "key": key, "created": "2026-01-01T00:00:00Z"}],
        }
    )


def slot_vectors() -> dict[str, Any]:
    params = kdf.Argon2Params(memory_kib=256, iterations=2, lanes=1)
    rng = stream("rng-passphrase-slot", 12)
    salt = b"strongroom-slot!"
    provider = passphrase.PassphraseProvider(b"kat passphrase", params, salt, rng=Replay(rng))
    context = _context("passphraseslotkatvectoraaa")
    recipient = identity(0)
    age_rng = stream("rng-age-slot", 64)
    age = age_x25519.AgeX25519Provider(recipient.recipient(), rng=Replay(age_rng))
    age_context = _context("agexslotkatvectoraaaaaaaaa")
    return {
        "keyring": _keyring().decode(),
        "passphrase": {
            "passphrase": b"kat passphrase".hex(),
            "fields": provider.fields(),
            "nonce": rng.hex(),
            "context": context.decode(),
            "wrapped": base64.b64encode(provider.wrap(_keyring(), context)).decode(),
        },
        "age-x25519": {
            "identity": recipient.encode(),
            "fields": age.fields(),
            "rng": age_rng.hex(),
            "context": age_context.decode(),
            "wrapped": base64.b64encode(age.wrap(_keyring(), age_context)).decode(),
        },
    }


def _hkdf(key: bytes, salt: bytes, purpose: str) -> bytes:
    """HKDF-SHA-256 written out from RFC 5869 (one block), independent of the product."""
    prk = hmac.digest(salt, key, "sha256")
    return hmac.digest(prk, ("strongroom.io/v1/" + purpose).encode() + b"\x01", "sha256")


def keyslot_v2_vectors() -> dict[str, Any]:
    """A two-epoch v2 keyring in a v2 age keyslot, built from the spec (format §4), and the
    fingerprints of both epochs."""
    repository_id = stream("repository-id", 16)
    keys = [stream("epoch-key", 32), stream("epoch-key-2", 32)]
    seal = hashlib.sha256(b"kat seal of epoch 1").hexdigest()
    header = hashlib.sha256(b"kat repository header").hexdigest()
    ring = canonical(
        {
            "format": "strongroom.io/keyring/v2",
            "repository": _repository(),
            "header": header,
            "epochs": [
                {
                    "epoch": 1,
                    "key": base64.b64encode(keys[0]).decode(),
                    "created": "2026-01-01T00:00:00Z",
                },
                {
                    "epoch": 2,
                    "key": base64.b64encode(keys[1]).decode(),
                    "created": "2026-02-01T00:00:00Z",
                    "seal": seal,
                },
            ],
        }
    )
    slot_id = "agexslotvtwokatvectoraaaaa"
    context = canonical(
        {
            "format": "strongroom.io/keyslot/v2",
            "purpose": "keyring",
            "repository": _repository(),
            "slot": slot_id,
            "epoch": "2",
        }
    )
    recipient = identity(1)
    age_rng = stream("rng-age-slot-v2", 64)
    age = age_x25519.AgeX25519Provider(recipient.recipient(), rng=Replay(age_rng))
    doc = {
        "format": "strongroom.io/keyslot/v2",
        "repository": _repository(),
        "slot": slot_id,
        "type": "age-x25519",
        "created": "2026-02-01T00:00:00Z",
        "label": "kat",
        "epoch": 2,
        "recipient": recipient.recipient().encode(),
        "wrapped": base64.b64encode(age.wrap(ring, context)).decode(),
    }
    mac_key = _hkdf(keys[1], repository_id, "keyslot-mac")
    doc["mac"] = base64.b64encode(hmac.digest(mac_key, canonical(doc), "sha256")).decode()
    fingerprints = []
    digest = hashlib.sha256(b"strongroom.io/fingerprint/v1\x00" + repository_id)
    for key in keys:
        digest.update(_hkdf(key, repository_id, "fingerprint"))
        fingerprints.append(base64.b32encode(digest.copy().digest()[:20]).decode().lower())
    return {
        "keyring": ring.decode(),
        "identity": recipient.encode(),
        "rng": age_rng.hex(),
        "slot": canonical(doc).decode(),
        "fingerprints": fingerprints,
    }


def write(name: str, value: object) -> None:
    text = json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    (HERE / name).write_text(text)


def main() -> None:
    write("age.json", [age_vector(*case) for case in AGE_CASES])
    write("subkeys.json", subkey_vectors())
    write("argon2id.json", argon2_vectors())
    write("keyslots.json", slot_vectors())
    write("keyslots-v2.json", keyslot_v2_vectors())


if __name__ == "__main__":
    main()
