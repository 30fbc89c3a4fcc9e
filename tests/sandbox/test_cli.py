"""``strongroom sandbox serve`` as a process: kubeconfig out, kubectl against it, clean stop."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

from tests.fixtures.ports import free_port, stop_process, wait_for_port

KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"
STRONGROOM = pathlib.Path(sys.executable).parent / "strongroom"
SERVE = [str(STRONGROOM), "sandbox", "serve"]


def start(tmp_path: pathlib.Path, *args: str) -> tuple[subprocess.Popen[bytes], pathlib.Path]:
    port = free_port()
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [
            *SERVE,
            "--port",
            str(port),
            "--kubeconfig-out",
            str(kubeconfig),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_for_port(port, proc=proc)
    deadline = time.monotonic() + 10
    while not kubeconfig.exists():
        assert time.monotonic() < deadline, "no kubeconfig written"
        time.sleep(0.02)
    return proc, kubeconfig


def kubectl(
    tmp_path: pathlib.Path, kubeconfig: pathlib.Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HOME=str(tmp_path))
    return subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def test_serve_writes_a_kubeconfig_kubectl_uses(tmp_path: pathlib.Path) -> None:
    proc, kubeconfig = start(tmp_path, "--state-dir", str(tmp_path / "state"))
    try:
        out = kubectl(tmp_path, kubeconfig, "get", "ns", "-o", "name")
        assert out.returncode == 0, out.stderr
        assert "namespace/kube-system" in out.stdout.split()
        os.kill(proc.pid, signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert "serving on http://127.0.0.1:" in stdout.decode()
        assert stdout.decode().rstrip().endswith("stopped")
        assert (tmp_path / "state" / "cluster.json").exists()
    finally:
        stop_process(proc)
        proc.communicate()


def test_serve_with_a_token_serves_tls_kubectl_trusts(tmp_path: pathlib.Path) -> None:
    proc, kubeconfig = start(tmp_path, "--token", "tok")
    try:
        out = kubectl(tmp_path, kubeconfig, "get", "ns", "-o", "name")
        assert out.returncode == 0, out.stderr
        assert "namespace/default" in out.stdout.split()
        out = kubectl(tmp_path, kubeconfig, "--token", "bad", "get", "ns")
        assert out.returncode != 0 and "Unauthorized" in out.stderr
    finally:
        stop_process(proc)
        proc.communicate()


def test_serve_refuses_a_non_loopback_host() -> None:
    proc = subprocess.run(
        [*SERVE, "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == "error: the sandbox serves on loopback addresses only, not '0.0.0.0'"
    )


MANIFEST = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  containers: [{name: db, image: "postgres:16"}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
"""


def test_serve_runs_pods_on_its_nodes_and_kubectl_waits_for_them(tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state"
    proc, kubeconfig = start(
        tmp_path, "--state-dir", str(state), "--nodes", "3", "--node-prefix", "edge"
    )
    try:
        out = kubectl(tmp_path, kubeconfig, "get", "nodes", "-o", "name")
        assert out.stdout.split() == ["node/edge-1", "node/edge-2", "node/edge-3"], out.stderr
        (tmp_path / "app.yaml").write_text(MANIFEST)
        out = kubectl(tmp_path, kubeconfig, "apply", "-f", str(tmp_path / "app.yaml"))
        assert out.returncode == 0, out.stderr
        out = kubectl(tmp_path, kubeconfig, "wait", "--for=condition=Ready", "pod/db",
                      "--timeout=20s")  # fmt: skip
        assert out.returncode == 0 and "pod/db condition met" in out.stdout, out.stderr
        out = kubectl(tmp_path, kubeconfig, "get", "pvc", "data", "-o",
                      "jsonpath={.status.phase} {.spec.volumeName}")  # fmt: skip
        phase, volume = out.stdout.split()
        assert phase == "Bound"
        node = kubectl(tmp_path, kubeconfig, "get", "pod", "db", "-o",
                       "jsonpath={.spec.nodeName} {.metadata.uid}").stdout.split()  # fmt: skip
        mount = (state / "nodes" / node[0] / "kubelet" / "pods" / node[1] / "volumes"
                 / "kubernetes.io~csi" / volume / "mount")  # fmt: skip
        assert mount.is_dir() and mount.resolve() == (state / "storage" / volume).resolve()
    finally:
        stop_process(proc)
        proc.communicate()


def test_serve_refuses_a_bad_node_layout(tmp_path: pathlib.Path) -> None:
    for args in (["--nodes", "0"], ["--node-prefix", "Not_A_Label"]):
        done = subprocess.run([*SERVE, *args], capture_output=True, text=True, timeout=30)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "--node" in done.stderr
