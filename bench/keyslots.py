"""What planted keyslots cost a client, beside restic with as many extra keys.

Usage: ``.venv/bin/python bench/keyslots.py [--planted 0,4,16] [--repeat 3]``

An attacker who can write the bucket adds N passphrase keyslots at the default Argon2 cost
(64 MiB, 3 passes), with ids that sort before the real one. The client holds the passphrase
and runs ``strongroom key list`` (a separate process; the command that tolerates untrusted
slots): once as a client that never opened the repository, once as one that remembers the slot
that opened it last time. The peer is restic 0.14 with N extra keys (``restic key add`` with
other passwords: a restic key file anyone can write), timed on ``restic cat config``. Wall
time, best of ``--repeat``; both are whole processes.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from strongroom import clock
from strongroom.crypto.providers.passphrase import PassphraseProvider
from strongroom.repository import documents, keyslots, repo
from strongroom.storage import factory

BIN = pathlib.Path(sys.executable).parent
PASSPHRASE = "the real passphrase of the bench"


def best(argv: list[str], env: dict[str, str], repeat: int, before: object = None) -> float:
    times = []
    for _ in range(repeat):
        if callable(before):
            before()
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def strongroom_case(tmp: pathlib.Path, planted: int, repeat: int) -> tuple[float, float]:
    folder = tmp / f"sr-{planted}"
    backend = factory.open_backend("filesystem", str(folder))
    real = PassphraseProvider.new(PASSPHRASE.encode())
    created = repo.Repository.create(backend, [real], clock.SystemClock())
    kdf = created.trusted_slots()[0].fields["kdf"]
    for index in range(planted):
        slot = "2" * 6 + documents.new_id()[6:]  # "2" sorts first in base32
        doc = {
            "format": keyslots.FORMAT, "repository": created.id, "slot": slot,
            "type": "passphrase", "created": "2099-01-01T00:00:00Z", "label": "", "epoch": 1,
            "kdf": {**kdf, "salt": documents.b64(os.urandom(16))},
            "wrapped": documents.b64(os.urandom(60)), "mac": documents.b64(os.urandom(32)),
        }  # fmt: skip
        backend.put(keyslots.PREFIX + slot, documents.canonical(doc))
        del index
    config = tmp / f"sr-{planted}.yaml"
    entry = {"name": "loc", "provider": "filesystem", "bucket": str(folder), "prefix": "",
             "config": {}, "repository": created.id}  # fmt: skip

    def forget() -> None:
        config.write_text(json.dumps({"kind": "Config", "locations": [entry]}))

    env = {**os.environ, "STRONGROOM_PASSPHRASE": PASSPHRASE, "STRONGROOM_CONFIG": str(config)}
    env["XDG_STATE_HOME"] = str(tmp / "state")
    argv = [str(BIN / "strongroom"), "key", "list"]
    first = best(argv, env, repeat, forget)
    subprocess.run(argv, env=env, check=True, capture_output=True)  # remembers the slot
    remembered = best(argv, env, repeat)
    return first, remembered


def restic_case(tmp: pathlib.Path, planted: int, repeat: int) -> float:
    repository = tmp / f"restic-{planted}"
    env = {**os.environ, "RESTIC_PASSWORD": PASSPHRASE, "RESTIC_REPOSITORY": str(repository)}
    subprocess.run(["restic", "init"], env=env, check=True, capture_output=True)
    for index in range(planted):
        other = tmp / "other-password"
        other.write_text(f"planted key {index}\n")
        subprocess.run(
            ["restic", "key", "add", "--new-password-file", str(other)],
            env=env,
            check=True,
            capture_output=True,
        )
    return best(["restic", "cat", "config"], env, repeat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--planted", default="0,4,16")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    counts = [int(n) for n in args.planted.split(",")]
    print(f"planted passphrase slots at the default cost; best of {args.repeat}, seconds")
    header = ("planted", "strongroom 1st open", "strongroom remembered", "restic", "ratio")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    with tempfile.TemporaryDirectory(prefix="bench-keyslots-") as tmp:
        for planted in counts:
            first, remembered = strongroom_case(pathlib.Path(tmp), planted, args.repeat)
            peer = restic_case(pathlib.Path(tmp), planted, args.repeat)
            row = (planted, f"{first:.2f}", f"{remembered:.2f}", f"{peer:.2f}")
            print(" | ".join(map(str, row)) + f" | {remembered / peer:.2f}x")


if __name__ == "__main__":
    main()
