"""Throughput of Strongroom's age implementation beside Debian's ``age`` CLI on the same data.

Usage: ``.venv/bin/python bench/crypto_throughput.py [MiB]`` (default 128). Prints MB/s
(10^6 bytes per second of plaintext) for encrypt and decrypt, best of three runs each; the CLI
timings are wall clock of the whole process reading and writing files in a temporary folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import timing

from strongroom.crypto import ageformat, agekeys

PIECE = 1024 * 1024


def _pieces(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for offset in range(0, len(data), PIECE):
        yield bytes(view[offset : offset + PIECE])


def main() -> None:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    age = shutil.which("age")
    if age is None:
        sys.exit("age is required (make debian-packages)")
    data = os.urandom(mib * PIECE)
    identity = agekeys.Identity.generate()
    recipient = identity.recipient()
    bind = hashlib.sha256(b"bench").digest()
    sealed = ageformat.encrypt_bytes([recipient], bind, data)

    def ours_encrypt() -> None:
        for _ in ageformat.encrypt([recipient], bind, _pieces(data)):
            pass

    def ours_decrypt() -> None:
        for _ in ageformat.decrypt([identity], bind, io.BytesIO(sealed)):
            pass

    with tempfile.TemporaryDirectory() as folder:
        root = pathlib.Path(folder)
        (root / "plain").write_bytes(data)
        (root / "sealed").write_bytes(sealed)
        (root / "key").write_text(identity.encode() + "\n")
        enc = [age, "-e", "-r", recipient.encode(), "-o", str(root / "out"), str(root / "plain")]
        dec = [age, "-d", "-i", str(root / "key"), "-o", str(root / "back"), str(root / "sealed")]

        def cli_encrypt() -> None:
            (root / "out").unlink(missing_ok=True)
            subprocess.run(enc, check=True)

        def cli_decrypt() -> None:
            (root / "back").unlink(missing_ok=True)
            subprocess.run(dec, check=True)

        rows = [
            ("encrypt", timing.best(ours_encrypt), timing.best(cli_encrypt)),
            ("decrypt", timing.best(ours_decrypt), timing.best(cli_decrypt)),
        ]
        assert (root / "back").read_bytes() == data
    size = len(data) / 1e6
    print(f"{mib} MiB of random data, best of 3")
    print(f"{'operation':<10}{'strongroom MB/s':>17}{'age CLI MB/s':>14}{'ratio':>8}")
    for name, ours, cli in rows:
        print(f"{name:<10}{size / ours:>17.0f}{size / cli:>14.0f}{cli / ours:>8.2f}")


if __name__ == "__main__":
    main()
