"""The main job from the command line: back up a namespace from one sandbox cluster, encrypted,
and restore it into another under another name; and every way it must refuse."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import pathlib
import shutil
import stat
import subprocess
from collections.abc import Iterator

import pytest

from strongroom.crypto import agekeys
from strongroom.errors import ExitCode
from strongroom.kube import client as kube_client
from strongroom.sandbox import server
from tests.cli.helpers import Cli, Outcome

SECRET_VALUE = "hunter2-correct-horse-battery-staple"


@dataclasses.dataclass
class Clusters:
    a: server.Sandbox
    b: server.Sandbox
    a_config: pathlib.Path
    b_config: pathlib.Path
    folder: pathlib.Path
    identity_file: pathlib.Path
    cli: Cli

    def on_a(self, *args: str) -> Outcome:
        return self.cli(
            "--kubeconfig", str(self.a_config), "--identity", str(self.identity_file), *args
        )

    def on_b(self, *args: str) -> Outcome:
        return self.cli(
            "--kubeconfig", str(self.b_config), "--identity", str(self.identity_file), *args
        )

    def objects(self, sandbox_config: pathlib.Path, namespace: str) -> dict[str, dict[str, object]]:
        found = {}
        kinds = (
            "configmaps",
            "secrets",
            "services",
            "deployments.apps",
            "coupons.shop.example.com",
        )
        with kube_client.Client.from_kubeconfig(sandbox_config) as kube:
            served = {r.group_resource for r in kube.discovery.resources()}
            for kind in (k for k in kinds if k in served):
                for obj in kube.list(kind, namespace):
                    found[f"{kind}/{obj['metadata']['name']}"] = dict(obj)
        return found


def _seed(kubeconfig: pathlib.Path) -> None:
    from strongroom.cli import demo, demo_app  # the demo's sample shop

    with kube_client.Client.from_kubeconfig(kubeconfig) as kube:
        demo.seed(kube, "shop", SECRET_VALUE)
        assert demo_app.GROUP


@pytest.fixture
def clusters(cli: Cli, tmp_path: pathlib.Path) -> Iterator[Clusters]:
    identity = agekeys.Identity.generate()
    identity_file = tmp_path / "recovery.txt"
    identity_file.write_text(f"# offline recovery key\n{identity.encode()}\n")
    with server.Sandbox() as a, server.Sandbox() as b:
        a_config = a.write_kubeconfig(tmp_path / "a.kubeconfig")
        b_config = b.write_kubeconfig(tmp_path / "b.kubeconfig")
        env = Clusters(a, b, a_config, b_config, tmp_path / "backups", identity_file, cli)
        _seed(env.a_config)
        created = cli(
            "location", "create", "local", "--provider", "filesystem", "--bucket", str(env.folder),
            "--recipient", identity.recipient().encode(),
        )  # fmt: skip
        assert created.code == ExitCode.OK, created.err
        yield env


def _namespaces(kubeconfig: pathlib.Path) -> set[str]:
    with kube_client.Client.from_kubeconfig(kubeconfig) as kube:
        return {ns["metadata"]["name"] for ns in kube.list("namespaces")}


def _backup(env: Clusters, name: str = "nightly", *extra: str) -> Outcome:
    result = env.on_a("backup", "create", name, "--include-namespaces", "shop", *extra)
    assert result.code == ExitCode.OK, result.err
    return result


def test_backup_then_restore_into_another_cluster_under_another_namespace(
    clusters: Clusters,
) -> None:
    made = _backup(clusters)
    assert 'Backup "nightly" Completed' in made.out
    doc = clusters.on_a("backup", "get", "nightly", "-o", "json").json()
    assert doc["kind"] == "Backup" and doc["status"]["phase"] == "Completed"
    assert doc["spec"]["includedNamespaces"] == ["shop"]

    restored = clusters.on_b(
        "restore",
        "create",
        "move",
        "--from-backup",
        "nightly",
        "--namespace-mappings",
        "shop:shop-b",
    )
    assert restored.code == ExitCode.OK, restored.err
    source = clusters.objects(clusters.a_config, "shop")
    target = clusters.objects(clusters.b_config, "shop-b")
    for key in ("configmaps/shop-config", "secrets/shop-db", "services/web", "deployments.apps/web",
                "coupons.shop.example.com/welcome", "coupons.shop.example.com/summer"):  # fmt: skip
        assert key in target, key
        labels = target[key]["metadata"]["labels"]  # type: ignore[index]
        assert labels["strongroom.io/backup-name"] == "nightly"
        assert labels["strongroom.io/restore-name"] == "move"
    assert target["secrets/shop-db"]["data"] == source["secrets/shop-db"]["data"]
    assert target["configmaps/shop-config"]["data"] == source["configmaps/shop-config"]["data"]
    assert target["coupons.shop.example.com/summer"]["spec"] == {"code": "SUMMER25", "percent": 25}

    restores = clusters.on_b("restore", "get", "-o", "json").json()["items"]
    assert [r["metadata"]["name"] for r in restores] == ["move"]
    assert restores[0]["status"]["phase"] == "Completed"
    details = clusters.on_b("restore", "describe", "move", "--details")
    assert "shop-b/shop-db(created)" in details.out
    assert clusters.on_b("restore", "logs", "move").code == ExitCode.OK


def test_nothing_reaches_disk_in_plaintext(clusters: Clusters) -> None:
    _backup(clusters, "nightly-shop")
    files = [p for p in clusters.folder.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        encoded = base64.b64encode(SECRET_VALUE.encode()).decode()  # as the API stores it
        for needle in (SECRET_VALUE, encoded, "shop-db", "nightly-shop", "WELCOME10", "coupons"):
            assert needle.encode() not in data, (path, needle)
            assert needle not in str(path.relative_to(clusters.folder)), (path, needle)


def test_describe_logs_and_download(clusters: Clusters, tmp_path: pathlib.Path) -> None:
    _backup(clusters)
    described = clusters.on_a("backup", "describe", "nightly", "--details")
    assert "Phase:" in described.out and "Completed" in described.out
    assert "shop/shop-db" in described.out and "v1/Secret" in described.out
    assert clusters.on_a("backup", "logs", "nightly").out.strip()
    target = tmp_path / "download.tar.zst"
    downloaded = clusters.on_a("backup", "download", "nightly", "--file", str(target))
    assert downloaded.code == ExitCode.OK, downloaded.err
    listing = subprocess.run(
        f"zstd -d -c {target} | tar -t", shell=True, capture_output=True, text=True, check=True
    ).stdout.split()
    assert listing[0] == "metadata/version"
    assert "resources/secrets/namespaces/shop/shop-db.json" in listing
    assert "resources/coupons.shop.example.com/namespaces/shop/welcome.json" in listing
    again = clusters.on_a("backup", "download", "nightly", "--file", str(target))
    assert again.code == ExitCode.ALREADY_EXISTS


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_022")
def test_a_download_is_private_from_its_creation(
    clusters: Clusters, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _backup(clusters)
    chmods: list[object] = []
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: chmods.append(args))
    monkeypatch.setattr(os, "fchmod", lambda *args: chmods.append(args))
    target = tmp_path / "download.tar.zst"
    downloaded = clusters.on_a("backup", "download", "nightly", "--file", str(target))
    assert downloaded.code == ExitCode.OK, downloaded.err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600, "created private, not narrowed later"
    assert chmods == []
    existing = tmp_path / "existing.tar.zst"
    existing.write_bytes(b"mine")
    refused = clusters.on_a("backup", "download", "nightly", "--file", str(existing))
    assert refused.code == ExitCode.ALREADY_EXISTS and "not overwriting" in refused.err
    assert existing.read_bytes() == b"mine"
    assert stat.S_IMODE(existing.stat().st_mode) == 0o644


def test_stock_age_zstd_and_tar_read_the_backup(clusters: Clusters, tmp_path: pathlib.Path) -> None:
    _backup(clusters)
    [key] = (clusters.folder / "k").iterdir()
    age = shutil.which("age") or "/usr/bin/age"
    script = (
        f"{age} -d -i {clusters.identity_file} {key} > {tmp_path}/backup.key && "
        f"{age} -d -i {tmp_path}/backup.key {clusters.folder}/b/{key.name}/archive"
        " | zstd -d | tar -t"
    )
    listing = subprocess.run(script, shell=True, capture_output=True, text=True, check=True).stdout
    assert "resources/secrets/namespaces/shop/shop-db.json" in listing.split()


def test_wrong_or_missing_identity(clusters: Clusters, tmp_path: pathlib.Path) -> None:
    _backup(clusters)
    stranger = tmp_path / "stranger.txt"
    stranger.write_text(agekeys.Identity.generate().encode() + "\n")
    wrong = clusters.cli("--identity", str(stranger), "backup", "get")
    assert wrong.code == ExitCode.PERMISSION_DENIED
    assert "none of the 1 keyslots opens" in wrong.err
    missing = clusters.cli("backup", "get")
    assert missing.code == ExitCode.PERMISSION_DENIED
    absent = clusters.cli("--identity", str(tmp_path / "absent.txt"), "backup", "get")
    assert absent.code == ExitCode.USAGE and "absent.txt" in absent.err


def test_tampered_archive_is_refused_and_the_cluster_untouched(clusters: Clusters) -> None:
    _backup(clusters)
    [data] = (clusters.folder / "b").iterdir()
    archive = data / "archive"
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    archive.unlink()
    archive.write_bytes(bytes(raw))
    before = clusters.objects(clusters.b_config, "shop-b")
    namespaces_before = _namespaces(clusters.b_config)
    result = clusters.on_b(
        "restore", "create", "r", "--from-backup", "nightly", "--namespace-mappings", "shop:shop-b"
    )
    assert result.code == ExitCode.INTEGRITY, result.err
    assert "archive" in result.err and result.err.count("\n") == 1
    assert clusters.objects(clusters.b_config, "shop-b") == before == {}
    assert _namespaces(clusters.b_config) == namespaces_before


def test_truncated_or_missing_object(clusters: Clusters) -> None:
    _backup(clusters)
    [data] = (clusters.folder / "b").iterdir()
    log = data / "log"
    content = log.read_bytes()
    log.unlink()
    log.write_bytes(content[:-7])
    assert clusters.on_a("backup", "logs", "nightly").code == ExitCode.INTEGRITY
    log.unlink()
    missing = clusters.on_a("backup", "logs", "nightly")
    assert missing.code == ExitCode.INTEGRITY and "missing" in missing.err


def test_unknown_backup_and_taken_names(clusters: Clusters) -> None:
    _backup(clusters)
    unknown = clusters.on_b("restore", "create", "r", "--from-backup", "nope")
    assert unknown.code == ExitCode.NOT_FOUND and "'nope' not found" in unknown.err
    taken = clusters.on_a("backup", "create", "nightly", "--include-namespaces", "shop")
    assert taken.code == ExitCode.ALREADY_EXISTS and "already exists" in taken.err
    assert clusters.on_b("restore", "create", "r1", "--from-backup", "nightly").code == ExitCode.OK
    again = clusters.on_b("restore", "create", "r1", "--from-backup", "nightly")
    assert again.code == ExitCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["backup", "create", "b", "--selector", "app in (web"], "selector"),
        (["backup", "create", "b", "--ttl", "forever"], "ttl"),
        (["backup", "create", "B_bad"], "invalid backup name"),
        (["backup", "create", "b", "--selector", "a=b", "--or-selector", "c=d or e=f"], "together"),
        (["restore", "create", "--from-backup", "x", "--namespace-mappings", "a-b"], "mapping"),
        (["restore", "create", "--from-backup", "x", "--namespace-mappings", "a:b,c:b"], "b"),
        (["restore", "create", "--from-backup", "x", "--include-resources", "nodes"], "nodes"),
    ],
)
def test_bad_flags_are_usage_errors(clusters: Clusters, args: list[str], needle: str) -> None:
    result = clusters.on_a(*args)
    assert result.code == ExitCode.USAGE, result.err
    assert needle in result.err and result.err.count("\n") == 1


def test_delete_shreds_one_backup_and_spares_the_other(clusters: Clusters) -> None:
    _backup(clusters, "keep")
    _backup(clusters, "gone")
    refused = clusters.on_a("backup", "delete", "gone")
    assert refused.code == ExitCode.USAGE and "--confirm" in refused.err
    assert clusters.on_a("backup", "delete", "gone", "--confirm").code == ExitCode.OK
    assert clusters.on_a("backup", "get", "gone").code == ExitCode.NOT_FOUND
    names = [
        i["metadata"]["name"] for i in clusters.on_a("backup", "get", "-o", "json").json()["items"]
    ]
    assert names == ["keep"]
    restored = clusters.on_b("restore", "create", "r", "--from-backup", "keep")
    assert restored.code == ExitCode.OK, restored.err


def test_second_cluster_connects_to_the_location_and_restores(
    clusters: Clusters, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    _backup(clusters)
    other = Cli(capsys, tmp_path / "cluster-b-config.yaml")
    connected = other(
        "location", "create", "shared", "--provider", "filesystem", "--bucket", str(clusters.folder)
    )
    assert connected.code == ExitCode.OK and "connected" in connected.out
    result = other(
        "--kubeconfig", str(clusters.b_config), "--identity", str(clusters.identity_file),
        "restore", "create", "m", "--from-backup", "nightly",
    )  # fmt: skip
    assert result.code == ExitCode.OK, result.err
    assert "secrets/shop-db" in clusters.objects(clusters.b_config, "shop")


def test_backup_verify_and_location_verify(clusters: Clusters) -> None:
    _backup(clusters, "one")
    ok = clusters.on_a("backup", "verify", "one")
    assert ok.code == ExitCode.OK and "all authentic" in ok.out
    assert clusters.on_a("location", "verify").code == ExitCode.OK
    [data] = (clusters.folder / "b").iterdir()
    results = data / "results"
    raw = bytearray(results.read_bytes())
    raw[-3] ^= 0x01
    results.unlink()
    results.write_bytes(bytes(raw))
    bad = clusters.on_a("backup", "verify", "one")
    assert bad.code == ExitCode.INTEGRITY and "results" in bad.err
    whole = clusters.on_a("location", "verify")
    assert whole.code == ExitCode.INTEGRITY and "violation: backup 'one'" in whole.err


def test_the_newest_backup_vanishing_is_reported(clusters: Clusters) -> None:
    _backup(clusters, "one")
    _backup(clusters, "two")
    assert clusters.on_a("backup", "get").code == ExitCode.OK  # this client now remembers 'two'
    two = clusters.on_a("backup", "get", "two", "-o", "json").json()
    assert two["status"]["phase"] == "Completed"
    newest = max((clusters.folder / "k").iterdir(), key=lambda p: p.stat().st_mtime_ns)
    shutil.rmtree(clusters.folder / "b" / newest.name)
    newest.unlink()
    listed = clusters.on_a("backup", "get")
    assert listed.code == ExitCode.INTEGRITY
    assert newest.name in listed.err and "vanished" in listed.err  # its id: names are not kept
    refused = clusters.on_a("backup", "create", "three", "--include-namespaces", "shop")
    assert refused.code == ExitCode.INTEGRITY
    verified = clusters.on_a("location", "verify")
    assert verified.code == ExitCode.INTEGRITY and newest.name in verified.err


def test_the_client_state_keeps_no_backup_names(clusters: Clusters, tmp_path: pathlib.Path) -> None:
    _backup(clusters, "nightly-shop")
    assert clusters.on_a("backup", "get").code == ExitCode.OK
    state = tmp_path / "state" / "strongroom" / "heads.json"
    [(repository, entry)] = json.loads(state.read_text()).items()
    assert "nightly-shop" not in state.read_text()
    assert set(entry) == {"backup", "sha256", "started"}
    elsewhere = {"backup": "b" * 26, "sha256": "0" * 64, "name": "elsewhere", "started": ""}
    older = {repository: {**entry, "name": "nightly-shop"}, "r" * 26: elsewhere}
    state.write_text(json.dumps(older))
    assert clusters.on_a("backup", "get").code == ExitCode.OK, "a state file with names is read"
    _backup(clusters, "weekly-shop")
    assert clusters.on_a("backup", "get").code == ExitCode.OK
    rewritten = json.loads(state.read_text())
    assert "-shop" not in state.read_text() and "elsewhere" not in state.read_text()
    assert rewritten["r" * 26] == {k: v for k, v in elsewhere.items() if k != "name"}


def test_a_deletion_through_strongroom_is_no_alarm(clusters: Clusters) -> None:
    _backup(clusters, "one")
    _backup(clusters, "two")
    assert clusters.on_a("backup", "get").code == ExitCode.OK
    assert clusters.on_a("backup", "delete", "two", "--confirm").code == ExitCode.OK
    assert clusters.on_a("backup", "get").code == ExitCode.OK
    assert clusters.on_a("location", "verify").code == ExitCode.OK


def test_a_writer_backs_up_but_cannot_read_and_a_reader_restores(
    clusters: Clusters, tmp_path: pathlib.Path
) -> None:
    credential = tmp_path / "writer.json"
    added = clusters.on_a("key", "add", "--writer-output", str(credential))
    assert added.code == ExitCode.OK, added.err
    assert credential.stat().st_mode & 0o077 == 0
    writer = clusters.cli(
        "--kubeconfig", str(clusters.a_config), "backup", "create", "from-ci",
        "--include-namespaces", "shop", "--writer-credential", str(credential),
    )  # fmt: skip
    assert writer.code == ExitCode.OK, writer.err
    cannot_read = clusters.cli("backup", "get", "from-ci")
    assert cannot_read.code == ExitCode.PERMISSION_DENIED
    cannot_download = clusters.cli("backup", "download", "from-ci", "--file", str(tmp_path / "x"))
    assert cannot_download.code == ExitCode.PERMISSION_DENIED
    restored = clusters.on_b("restore", "create", "r", "--from-backup", "from-ci")
    assert restored.code == ExitCode.OK, restored.err
    assert "secrets/shop-db" in clusters.objects(clusters.b_config, "shop")
    assert clusters.on_b("backup", "verify", "from-ci").code == ExitCode.OK


def test_a_rotation_retires_writer_credentials(clusters: Clusters, tmp_path: pathlib.Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    assert clusters.on_a("key", "add", "--writer-output", str(old)).code == ExitCode.OK
    assert clusters.on_a("key", "rotate", "--repository-key").code == ExitCode.OK

    def as_writer(credential: pathlib.Path, name: str) -> Outcome:
        return clusters.cli(
            "--kubeconfig", str(clusters.a_config), "backup", "create", name,
            "--include-namespaces", "shop", "--writer-credential", str(credential),
        )  # fmt: skip

    retired = as_writer(old, "stale-ci")
    assert retired.code == ExitCode.PERMISSION_DENIED and "rotated" in retired.err
    assert clusters.on_a("key", "add", "--writer-output", str(new)).code == ExitCode.OK
    assert as_writer(new, "fresh-ci").code == ExitCode.OK
    assert clusters.on_a("location", "verify").code == ExitCode.OK


def test_get_and_describe_name_the_writer_of_a_backup(
    clusters: Clusters, tmp_path: pathlib.Path
) -> None:
    _backup(clusters, "by-admin")
    credential = tmp_path / "writer.json"
    assert clusters.on_a("key", "add", "--writer-output", str(credential)).code == ExitCode.OK
    writer_id = json.loads(credential.read_text())["writer"]
    by_writer = clusters.cli(
        "--kubeconfig", str(clusters.a_config), "backup", "create", "from-ci",
        "--include-namespaces", "shop", "--writer-credential", str(credential),
    )  # fmt: skip
    assert by_writer.code == ExitCode.OK, by_writer.err
    items = clusters.on_a("backup", "get", "-o", "json").json()["items"]
    writers = {
        i["metadata"]["name"]: i["metadata"]["labels"]["strongroom.io/writer"] for i in items
    }
    assert writers == {"by-admin": "", "from-ci": writer_id}
    as_yaml = clusters.on_a("backup", "get", "from-ci", "-o", "yaml").out
    assert f"strongroom.io/writer: {writer_id}" in as_yaml
    table = clusters.on_a("backup", "get").out.splitlines()
    assert table[0].split()[-1] == "WRITER"
    rows = {line.split()[0]: line.split()[-1] for line in table[1:]}
    assert rows == {"by-admin": "-", "from-ci": writer_id}
    described = clusters.on_a("backup", "describe", "from-ci").out
    assert any(line.split() == ["Writer:", writer_id] for line in described.splitlines())
    by_keyring = clusters.on_a("backup", "describe", "by-admin").out
    assert any(line.split() == ["Writer:", "-"] for line in by_keyring.splitlines())
    as_json = clusters.on_a("backup", "describe", "from-ci", "-o", "json").json()
    assert as_json["metadata"]["labels"]["strongroom.io/writer"] == writer_id


def test_an_api_error_mid_restore_is_recorded_and_the_run_goes_on(clusters: Clusters) -> None:
    _backup(clusters)
    with kube_client.Client.from_kubeconfig(clusters.a_config) as kube:
        port = kube.get("services", "web-public", "shop")["spec"]["ports"][0]["nodePort"]
    with kube_client.Client.from_kubeconfig(clusters.b_config) as kube:
        kube.create(
            "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}
        )
        taken = {"name": "squatter", "namespace": "other"}
        spec = {"type": "NodePort", "ports": [{"port": 80, "nodePort": port}]}
        kube.create(
            "services", {"apiVersion": "v1", "kind": "Service", "metadata": taken, "spec": spec}
        )
    result = clusters.on_b(
        "restore", "create", "r", "--from-backup", "nightly", "--preserve-nodeports"
    )
    assert result.code == ExitCode.PARTIALLY_FAILED, result.err
    assert "partially failed" in result.err
    assert "secrets/shop-db" in clusters.objects(clusters.b_config, "shop"), "the rest was restored"
    details = clusters.on_b("restore", "describe", "r", "--details")
    assert "shop/web-public(failed)" in details.out
    assert "Error (shop)" in details.out
