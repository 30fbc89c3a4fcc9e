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
