"""``strongroom node-agent`` as processes, one per sandbox node, and ``backup create`` with pod
volumes: the StatefulSet's data reaches the backup; an agent killed mid-volume and restarted
fails that volume cleanly; bad flags are one-line errors."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from strongroom.engine.podvolumes import objects
from strongroom.errors import ExitCode
from strongroom.kube import client as kube_client
from strongroom.sandbox import server
from tests.cli.helpers import Cli
from tests.cli.sandboxed import SandboxLocation
from tests.engine.backup.test_pod_volumes import running_pods, stateful_set, write_volumes

STRONGROOM = pathlib.Path(sys.executable).parent / "strongroom"


class Cluster(SandboxLocation):
    def __init__(self, cli: Cli, sandbox: server.Sandbox, tmp: pathlib.Path) -> None:
        super().__init__(cli, sandbox, tmp)
        self.kube = kube_client.Client.from_kubeconfig(self.kubeconfig)
        for definition in objects.definitions():
            self.kube.create("customresourcedefinitions", definition)  # type: ignore[arg-type]
            name = definition["metadata"]["name"]
            self.kube.wait_for_condition("customresourcedefinitions", name)
        for namespace in (objects.DEFAULT_NAMESPACE, "shop"):
            self.kube.create("namespaces", {"metadata": {"name": namespace}})

    def agent(self, node: str) -> subprocess.Popen[bytes]:
        env = dict(os.environ, STRONGROOM_CONFIG=str(self.cli.config_path))
        env.pop("STRONGROOM_IDENTITY", None)  # the agent has no key that decrypts
        return subprocess.Popen(
            [str(STRONGROOM), "--kubeconfig", str(self.kubeconfig), "node-agent", "--node-name",
             node, "--kubelet-root", str(self.sandbox.kubelet_root(node)), "--writer-credential",
             str(self.credential)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip


@pytest.fixture
def cluster(cli: Cli, tmp_path: pathlib.Path) -> Iterator[Cluster]:
    with server.Sandbox() as sandbox:
        made = Cluster(cli, sandbox, tmp_path)
        try:
            yield made
        finally:
            made.kube.close()


def stop(proc: subprocess.Popen[bytes]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    return err.decode()


def test_backup_create_takes_pod_volumes_through_agent_processes(
    cluster: Cluster, tmp_path: pathlib.Path
) -> None:
    cluster.kube.create(
        "statefulsets", stateful_set(3, {"backup.velero.io/backup-volumes": "data"})
    )
    pods = running_pods(cluster.kube, 3)
    written = write_volumes(cluster.kube, cluster.sandbox, pods)
    agents = [cluster.agent(node) for node in cluster.sandbox.node_names]
    try:
        done = cluster.run("backup", "create", "nightly", "--include-namespaces", "shop",
                           "--fs-backup-timeout", "60s")  # fmt: skip
    finally:
        logs = [stop(a) for a in agents]
    assert done.code == ExitCode.OK, (done.err, logs)
    assert all(a.returncode == 0 for a in agents), logs
    shown = cluster.run("backup", "get", "nightly", "-o", "json").json()
    taken = shown["status"]["volumeSnapshots"]
    assert sorted(t["pod"] for t in taken) == ["db-0", "db-1", "db-2"]
    verified = cluster.run("backup", "verify", "nightly", "--read-data")
    assert verified.code == ExitCode.OK, verified.err
    assert "and 3 pod volumes, all authentic (every chunk read)" in verified.out
    described = cluster.run("backup", "describe", "nightly", "--details")
    assert "Pod volumes:" in described.out
    for n in range(3):
        line = f"  - shop/db-{n} volume data (claim data-db-{n}) on "
        assert line in described.out
    for entry in taken:
        target = tmp_path / "out" / entry["pod"]
        restored = cluster.run("volume", "restore", entry["id"], "--from-backup", "nightly",
                               "--target", str(target))  # fmt: skip
        assert restored.code == ExitCode.OK, restored.err
        assert (target / "pgdata" / "table").read_bytes() == written[entry["pod"]]["data"]
    by_claim = tmp_path / "by-claim"
    restored = cluster.run("volume", "restore", "--from-backup", "nightly", "--pvc",
                           "shop/data-db-1", "--target", str(by_claim))  # fmt: skip
    assert restored.code == ExitCode.OK, restored.err
    assert (by_claim / "pgdata" / "table").read_bytes() == written["db-1"]["data"]
    for args, code in (
        (["--pvc", "shop/data-db-1"], ExitCode.USAGE),
        (["--from-backup", "nightly"], ExitCode.USAGE),
        (["--from-backup", "nightly", "--pvc", "shop"], ExitCode.USAGE),
        (["--from-backup", "nightly", "--pvc", "shop/absent"], ExitCode.NOT_FOUND),
    ):
        refused = cluster.run("volume", "restore", *args, "--target", str(tmp_path / "x"))
        assert refused.code == code, refused.err
        assert len(refused.err.strip().splitlines()) == 1
    for pack in (tmp_path / "bucket" / "v" / "p").iterdir():  # damage the data: verify sees it
        data = bytearray(pack.read_bytes())
        data[len(data) // 2] ^= 1
        pack.unlink()
        pack.write_bytes(bytes(data))
    damaged = cluster.run("backup", "verify", "nightly", "--read-data")
    assert damaged.code == ExitCode.INTEGRITY, damaged.err
    assert "fails its tag" in damaged.err


def test_an_agent_killed_mid_volume_fails_it_and_the_backup_says_so(cluster: Cluster) -> None:
    cluster.kube.create(
        "statefulsets", stateful_set(1, {"backup.velero.io/backup-volumes": "data"})
    )
    (pod,) = running_pods(cluster.kube, 1)
    write_volumes(cluster.kube, cluster.sandbox, [pod])
    claim = cluster.kube.get("persistentvolumeclaims", "data-db-0", "shop")
    data = cluster.sandbox.files / "storage" / claim["spec"]["volumeName"]
    with open(data / "big", "wb") as handle:  # long enough to be killed in the middle
        for _ in range(48):
            handle.write(os.urandom(1 << 20))
    node = pod["spec"]["nodeName"]
    first = cluster.agent(node)
    backup = subprocess.Popen(
        [str(STRONGROOM), "--config", str(cluster.cli.config_path), "--kubeconfig",
         str(cluster.kubeconfig), "--identity", str(cluster.identity), "backup", "create",
         "killed", "--include-namespaces", "shop", "--fs-backup-timeout", "60s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = list(cluster.kube.list(objects.RESOURCE, objects.DEFAULT_NAMESPACE))
            if found and objects.phase(found[0]) == objects.IN_PROGRESS:
                break
            time.sleep(0.01)
        first.kill()
        first.communicate(timeout=10)
        second = cluster.agent(node)
        _, err = backup.communicate(timeout=90)
    finally:
        if backup.poll() is None:
            backup.kill()
        stop(second)
    assert backup.returncode == ExitCode.PARTIALLY_FAILED, err.decode()
    assert list(cluster.kube.list(objects.RESOURCE, objects.DEFAULT_NAMESPACE)) == []
    described = cluster.run("backup", "logs", "killed")
    assert "restarted while backing it up" in described.out


def test_node_agent_refuses_bad_flags_in_one_line(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    env = dict(os.environ, STRONGROOM_CONFIG=str(cluster.cli.config_path))
    for args, code in (
        (["--kubelet-root", str(tmp_path / "absent"), "--writer-credential",
          str(cluster.credential)], ExitCode.NOT_FOUND),
        (["--kubelet-root", str(tmp_path), "--writer-credential", str(tmp_path / "none.json")],
         None),
        (["--kubelet-root", str(tmp_path)], ExitCode.USAGE),
    ):  # fmt: skip
        done = subprocess.run(
            [str(STRONGROOM), "--kubeconfig", str(cluster.kubeconfig), "node-agent",
             "--node-name", "sandbox-1", *args],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        if code is not None:
            assert done.returncode == code, done.stderr


def test_the_restore_helper_ends_once_every_volume_holds_the_marker(tmp_path: pathlib.Path) -> None:
    first, second = tmp_path / "data", tmp_path / "cache"
    for folder in (first, second):
        (folder / ".strongroom").mkdir(parents=True)
    helper = subprocess.Popen(
        [str(STRONGROOM), "restore-helper", "--marker", "m1", "--interval", "0.05", str(first),
         str(second)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        (first / ".strongroom" / "m1").touch()
        (second / ".strongroom" / "m0").touch()
        time.sleep(0.5)
        assert helper.poll() is None  # the second volume is not restored yet
        (second / ".strongroom" / "m1").touch()
        out, err = helper.communicate(timeout=30)
    finally:
        if helper.poll() is None:
            helper.kill()
    assert helper.returncode == 0, err
    assert out.splitlines() == [f"{first}: restored", f"{second}: restored"]


def test_restore_create_brings_the_volumes_back_through_agent_processes(cluster: Cluster) -> None:
    from tests.engine.backup.test_pod_volumes import volume_contents, wait_gone

    cluster.kube.create(
        "statefulsets", stateful_set(2, {"backup.velero.io/backup-volumes": "data"})
    )
    written = write_volumes(cluster.kube, cluster.sandbox, running_pods(cluster.kube, 2))
    agents = [cluster.agent(node) for node in cluster.sandbox.node_names]
    try:
        made = cluster.run("backup", "create", "b", "--include-namespaces", "shop")
        assert made.code == ExitCode.OK, made.err
        cluster.kube.delete("namespaces", "shop")
        wait_gone(cluster.kube, "shop")
        back = cluster.run("restore", "create", "--from-backup", "b", "--fs-restore-timeout",
                           "60s")  # fmt: skip
    finally:
        logs = [stop(a) for a in agents]
    assert back.code == ExitCode.OK, (back.err, logs)
    running_pods(cluster.kube, 2)
    contents = volume_contents(cluster.kube, cluster.sandbox, "shop")
    assert contents == {n: w["data"] for n, w in written.items()}
