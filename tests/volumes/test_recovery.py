"""docs/recovery.md, "Volume data": stock age and zstd, then docs/recover_volume.py."""

from __future__ import annotations

import ast
import base64
import json
import os
import pathlib
import random
import subprocess
import sys

from strongroom import clock
from strongroom.crypto import agekeys
from strongroom.crypto.providers.age_x25519 import AgeX25519Provider
from strongroom.engine.volumes import backup
from strongroom.repository import repo
from strongroom.storage import factory

SCRIPT = pathlib.Path(__file__).parents[2] / "docs" / "recover_volume.py"
ALLOWED = {"argparse", "base64", "hashlib", "hmac", "json", "os", "pathlib", "struct", "sys"}
ALLOWED |= {"__future__", "zstandard", "cryptography"}


def test_the_script_needs_only_the_standard_library_cryptography_and_zstandard() -> None:
    imported = set()
    for node in ast.walk(ast.parse(SCRIPT.read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= ALLOWED, imported - ALLOWED


def _sh(*argv: str | pathlib.Path, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        [str(a) for a in argv], input=stdin, capture_output=True, check=True
    ).stdout


def test_a_snapshot_is_recovered_with_stock_tools_and_the_script(tmp_path: pathlib.Path) -> None:
    identity_file = tmp_path / "recovery.txt"
    _sh("age-keygen", "-o", identity_file)
    recipient = _sh("age-keygen", "-y", identity_file).decode().strip()
    location = tmp_path / "location"
    repository = repo.Repository.create(
        factory.open_backend("filesystem", str(location)),
        [AgeX25519Provider(agekeys.Recipient.parse(recipient))],
        clock.SystemClock(),
    )
    source = tmp_path / "source"
    (source / "etc").mkdir(parents=True)
    (source / "etc" / "app.conf").write_text("port = 80\n" * 300)
    (source / "big.bin").write_bytes(random.Random(8).randbytes(1_500_000))
    (source / "empty").write_bytes(b"")
    os.symlink("etc/app.conf", source / "link")
    os.link(source / "big.bin", source / "big-again.bin")
    with (source / "sparse").open("wb") as f:
        f.seek(3 << 20)
        f.write(b"tail")
    os.chmod(source / "etc" / "app.conf", 0o600)
    snapshot = backup.backup(repository, str(source)).snapshot

    # 1. the keyring, from the recovery key's slot
    slots = [json.loads(p.read_text()) for p in (location / "keys").iterdir()]
    slot = next(doc for doc in slots if doc["type"] == "age-x25519")
    wrapped = base64.b64decode(slot["wrapped"])
    keyring = tmp_path / "keyring.json"
    keyring.write_bytes(_sh("age", "-d", "-i", identity_file, stdin=wrapped))
    # 2. the snapshot's tree
    snapshot_key = tmp_path / "snapshot.key"
    snapshot_key.write_bytes(_sh("age", "-d", "-i", identity_file, location / "k" / snapshot))
    compressed = _sh("age", "-d", "-i", snapshot_key, location / "b" / snapshot / "tree")
    tree = tmp_path / "tree.jsonl"
    tree.write_bytes(_sh("zstd", "-d", "-c", stdin=compressed))
    # 3. the files
    target = tmp_path / "target"
    env = {"PATH": os.environ["PATH"]}
    subprocess.run(
        [sys.executable, "-I", SCRIPT, "--location", location, "--keyring", keyring,
         "--tree", tree, "--target", target],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    for rel in ["etc/app.conf", "big.bin", "big-again.bin", "empty", "sparse"]:
        assert (target / rel).read_bytes() == (source / rel).read_bytes(), rel
        assert (target / rel).stat().st_mtime_ns == (source / rel).stat().st_mtime_ns
    assert os.readlink(target / "link") == "etc/app.conf"
    assert (target / "etc" / "app.conf").stat().st_mode & 0o777 == 0o600
    assert (target / "big-again.bin").stat().st_ino == (target / "big.bin").stat().st_ino
    assert (target / "sparse").stat().st_blocks * 512 < (1 << 20)
