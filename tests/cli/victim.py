"""The victim of the attacks in tests: a client with a location, a cluster and one backup,
and the attacker's raw access to the same storage (docs/threat-model.md)."""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import subprocess
from collections.abc import Iterator

import pytest

from strongroom.crypto import agekeys
from strongroom.errors import ExitCode
from strongroom.kube import client as kube_client
from strongroom.repository import keyslots
from strongroom.sandbox import server
from strongroom.storage import factory
from tests.cli.helpers import Cli, Outcome
from tests.fixtures import attacker as attack
from tests.fixtures.seaweedfs import SeaweedFS


@dataclasses.dataclass
class Victim:
    cli: Cli
    kubeconfig: pathlib.Path
    identity: agekeys.Identity
    identity_file: pathlib.Path
    attacker: attack.Attacker
    where: list[str]
    tmp: pathlib.Path

    def run(self, *args: str) -> Outcome:
        return self.cli(
            "--kubeconfig", str(self.kubeconfig), "--identity", str(self.identity_file), *args
        )

    def backup(self, name: str) -> Outcome:
        return self.run("backup", "create", name, "--include-namespaces", "app")

    def verify(self) -> Outcome:
        return self.run("location", "verify")

    def key_object(self, name: str) -> bytes:
        """The stored key object of backup ``name`` (the only ``k/`` it adds)."""
        before = set(self.attacker.names("k/"))
        made = self.backup(name)
        assert made.code == ExitCode.OK, made.err
        (added,) = set(self.attacker.names("k/")) - before
        return self.attacker.read(added)

    def slot_ids(self) -> list[str]:
        return [n.removeprefix(keyslots.PREFIX) for n in self.attacker.names(keyslots.PREFIX)]


def opens_with(identity: agekeys.Identity, sealed: bytes, tmp: pathlib.Path) -> bool:
    """Whether Debian's age decrypts ``sealed`` with ``identity``: the attacker's own test."""
    key = tmp / f"attacker-{identity.recipient().encode()[-8:]}.txt"
    key.write_text(identity.encode() + "\n")
    done = subprocess.run(["age", "-d", "-i", str(key)], input=sealed, capture_output=True)
    return done.returncode == 0


@contextlib.contextmanager
def victim_of(
    provider: str, request: pytest.FixtureRequest, cli: Cli, tmp_path: pathlib.Path
) -> Iterator[Victim]:
    """A location whose repository holds one backup ("before") of a sandbox cluster with a
    Secret, the victim's age identity, and the attacker's raw access to its storage."""
    identity = agekeys.Identity.generate()
    identity_file = tmp_path / "victim.txt"
    identity_file.write_text(identity.encode() + "\n")
    if provider == "s3":
        request.getfixturevalue("aws_profiles")
        seaweedfs: SeaweedFS = request.getfixturevalue("seaweedfs")
        bucket, prefix = seaweedfs.create_bucket(), "forgery"
        config = seaweedfs.config("rw")
        flags = ",".join(f"{k}={v}" for k, v in config.items())
        where = ["--provider", "s3", "--bucket", bucket, "--prefix", prefix, "--config", flags]
        store = factory.open_backend("s3", bucket, prefix, config)
    else:
        folder = tmp_path / "bucket"
        where = ["--provider", "filesystem", "--bucket", str(folder)]
        store = factory.open_backend("filesystem", str(folder))
    made = cli("location", "create", "loc", *where, "--recipient", identity.recipient().encode())
    assert made.code == ExitCode.OK, made.err
    with server.Sandbox() as cluster:
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        with kube_client.Client.from_kubeconfig(kubeconfig) as kube:
            kube.create("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                       "metadata": {"name": "app"}})  # fmt: skip
            kube.create("secrets", {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                    "metadata": {"name": "db", "namespace": "app"},
                                    "stringData": {"password": "hunter2"}})  # fmt: skip
        victim = Victim(
            cli, kubeconfig, identity, identity_file, attack.Attacker(store), where, tmp_path
        )
        assert victim.backup("before").code == ExitCode.OK
        yield victim


def assert_refused(outcome: Outcome, *names: str) -> None:
    """Exit 4, no traceback, and every one of ``names`` in the message."""
    assert outcome.code == ExitCode.INTEGRITY, (outcome.code, outcome.out, outcome.err)
    assert "Traceback" not in outcome.err
    for name in names:
        assert name in outcome.err, (name, outcome.err)
