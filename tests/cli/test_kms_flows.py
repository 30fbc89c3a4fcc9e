"""Key management end to end from the command line, against moto (AWS KMS) and OpenBao.

A backup written with a KMS keyslot, restored through KMS, then through the offline recovery
identity with the KMS down; a slot added later (Vault) opens old backups; rotation keeps old
and new backups readable; KMS calls happen per command, never per object.
"""

from __future__ import annotations

import pathlib
import urllib.parse
from collections.abc import Iterator

import pytest

from strongroom.crypto import agekeys
from strongroom.errors import ExitCode
from strongroom.kube import client as kube_client
from strongroom.sandbox import server
from tests.cli.helpers import Cli, Outcome
from tests.crypto import kms_proxy
from tests.fixtures import kms
from tests.fixtures.ports import free_port


class Env:
    def __init__(self, cli: Cli, tmp: pathlib.Path, a: server.Sandbox, b: server.Sandbox) -> None:
        self.cli = cli
        self.a = a.write_kubeconfig(tmp / "a.kubeconfig")
        self.b = b.write_kubeconfig(tmp / "b.kubeconfig")
        self.folder = tmp / "backups"
        self.identity = agekeys.Identity.generate()
        self.identity_file = tmp / "recovery.txt"
        self.identity_file.write_text(self.identity.encode() + "\n")

    def on(self, kubeconfig: pathlib.Path, *args: str, identity: bool = False) -> Outcome:
        extra = ["--identity", str(self.identity_file)] if identity else []
        return self.cli("--kubeconfig", str(kubeconfig), *extra, *args)

    def seed(self, count: int) -> None:
        with kube_client.Client.from_kubeconfig(self.a) as kube:
            kube.create(
                "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}
            )
            for i in range(count):
                meta = {"name": f"cm-{i}", "namespace": "app"}
                kube.create(
                    "configmaps",
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": meta,
                        "data": {"i": str(i)},
                    },
                )
            secret = {"name": "db", "namespace": "app"}
            kube.create(
                "secrets",
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": secret,
                    "stringData": {"p": "kms-protected"},
                },
            )

    def configmaps(self, kubeconfig: pathlib.Path, namespace: str) -> set[str]:
        with kube_client.Client.from_kubeconfig(kubeconfig) as kube:
            return {o["metadata"]["name"] for o in kube.list("configmaps", namespace)}


@pytest.fixture
def env(
    cli: Cli, tmp_path: pathlib.Path, moto_kms: kms.MotoKms, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Env]:
    kms.set_env(monkeypatch, moto_kms.env())
    with server.Sandbox() as a, server.Sandbox() as b:
        yield Env(cli, tmp_path, a, b)


def _create_location(env: Env, moto_kms: kms.MotoKms) -> None:
    made = env.cli(
        "location", "create", "kms", "--provider", "filesystem", "--bucket", str(env.folder),
        "--kms", f"aws-kms://{moto_kms.alias}", "--recipient", env.identity.recipient().encode(),
    )  # fmt: skip
    assert made.code == ExitCode.OK, made.err


def test_kms_backup_restore_then_recovery_with_the_kms_down(
    env: Env, moto_kms: kms.MotoKms, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.seed(5)
    _create_location(env, moto_kms)
    slots = env.on(env.a, "key", "list", "-o", "json").json()["items"]
    assert sorted(s["type"] for s in slots) == ["age-x25519", "aws-kms"]
    assert env.on(env.a, "backup", "create", "nightly", "--include-namespaces", "app").code == 0
    through_kms = env.on(env.b, "restore", "create", "r1", "--from-backup", "nightly")
    assert through_kms.code == ExitCode.OK, through_kms.err
    assert "cm-4" in env.configmaps(env.b, "app")

    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", f"http://127.0.0.1:{free_port()}")  # KMS down
    locked = env.on(env.b, "backup", "get")
    assert locked.code == ExitCode.PERMISSION_DENIED and "aws-kms" in locked.err
    mapping = ["--namespace-mappings", "app:app2"]
    recovered = env.on(
        env.b, "restore", "create", "r2", "--from-backup", "nightly", *mapping, identity=True
    )
    assert recovered.code == ExitCode.OK, recovered.err
    assert "cm-4" in env.configmaps(env.b, "app2")


def test_kms_calls_are_per_command_not_per_object(
    env: Env, moto_kms: kms.MotoKms, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.seed(60)
    port = urllib.parse.urlsplit(moto_kms.endpoint).port
    assert port is not None
    with kms_proxy.running(port) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", proxy.url)
        _create_location(env, moto_kms)
        created = proxy.count
        assert created == 1  # one Encrypt: the keyslot
        assert env.on(env.a, "backup", "create", "b", "--include-namespaces", "app").code == 0
        after_backup = proxy.count
        assert env.on(env.b, "restore", "create", "r", "--from-backup", "b").code == 0
        after_restore = proxy.count
    # One Decrypt per command that opens the repository, however many objects it handles.
    assert after_backup - created == 1
    assert after_restore - after_backup == 1


def test_a_vault_slot_added_later_opens_old_backups_and_rotation_keeps_them(
    env: Env, moto_kms: kms.MotoKms, openbao: kms.OpenBao, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.seed(3)
    _create_location(env, moto_kms)
    assert env.on(env.a, "backup", "create", "old", "--include-namespaces", "app").code == 0
    kms.set_env(monkeypatch, openbao.env())
    added = env.on(env.a, "key", "add", "--kms", f"hcvault://{openbao.key}")
    assert added.code == ExitCode.OK, added.err
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", f"http://127.0.0.1:{free_port()}")  # AWS down
    by_vault = env.on(env.b, "restore", "create", "r-old", "--from-backup", "old")
    assert by_vault.code == ExitCode.OK, by_vault.err

    kms.set_env(monkeypatch, moto_kms.env())
    rotated = env.on(env.a, "key", "rotate", "--repository-key")
    assert rotated.code == ExitCode.OK, rotated.err
    assert env.on(env.a, "backup", "create", "new", "--include-namespaces", "app").code == 0
    for name in ("old", "new"):
        assert env.on(env.a, "backup", "verify", name).code == ExitCode.OK
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", f"http://127.0.0.1:{free_port()}")
    offline = env.on(
        env.b,
        "restore",
        "create",
        "r-new",
        "--from-backup",
        "new",
        "--namespace-mappings",
        "app:n",
        identity=True,
    )
    assert offline.code == ExitCode.OK, offline.err


def test_a_kms_only_location_warns_and_works_through_openbao(
    env: Env, openbao: kms.OpenBao, monkeypatch: pytest.MonkeyPatch
) -> None:
    kms.set_env(monkeypatch, openbao.env())
    env.seed(2)
    made = env.cli(
        "location", "create", "vault", "--provider", "filesystem", "--bucket", str(env.folder),
        "--kms", f"hcvault://{openbao.key}",
    )  # fmt: skip
    assert made.code == ExitCode.OK, made.err
    assert "no offline recovery key" in made.err
    assert env.on(env.a, "backup", "create", "b", "--include-namespaces", "app").code == 0
    restored = env.on(env.b, "restore", "create", "r", "--from-backup", "b")
    assert restored.code == ExitCode.OK, restored.err
    assert "cm-1" in env.configmaps(env.b, "app")
    monkeypatch.setenv("VAULT_TOKEN", openbao.encrypt_only_token)  # may wrap, may not unwrap
    denied = env.on(env.b, "backup", "get")
    assert denied.code == ExitCode.PERMISSION_DENIED and "hcvault" in denied.err
