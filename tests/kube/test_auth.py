"""Credentials end to end: exec plugins, token files and static tokens against a sandbox
that requires a bearer token."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from strongroom.kube import client, config, errors
from strongroom.sandbox import server
from tests.kube import execplugin
from tests.kube.conftest import FAST_RETRY
from tests.kube.faultproxy import FaultProxy

TOKEN = "the-right-token"


@pytest.fixture
def guarded() -> Iterator[server.Sandbox]:
    with server.Sandbox(token=TOKEN) as sandbox:
        yield sandbox


def kubeconfig(path: Path, sandbox: server.Sandbox, user: dict[str, Any]) -> Path:
    ca = sandbox.ca_certificate
    assert ca is not None
    cluster = {"server": sandbox.url, "certificate-authority-data": base64.b64encode(ca).decode()}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "s", "cluster": cluster}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "s", "context": {"cluster": "s", "user": "u"}}],
                "current-context": "s",
            }
        )
    )
    return path


def exec_user(tmp_path: Path, tokens: str) -> dict[str, Any]:
    script = execplugin.write_plugin(tmp_path)
    env = [
        {"name": "COUNTER", "value": str(tmp_path / "runs")},
        {"name": "TOKENS", "value": tokens},
    ]
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": script.name,
            "env": env,
            "interactiveMode": "Never",
        }
    }


def test_exec_plugin_runs_once_for_many_requests(guarded: server.Sandbox, tmp_path: Path) -> None:
    # a bare command name resolves through PATH; here it is found relative to nothing, so
    # give the absolute path the way most kubeconfigs do
    user = exec_user(tmp_path, TOKEN)
    user["exec"]["command"] = str(tmp_path / "get-token")
    path = kubeconfig(tmp_path / "kubeconfig", guarded, user)
    with client.Client.from_kubeconfig(path, retry_policy=FAST_RETRY) as kube:
        for _ in range(5):
            kube.get("namespaces", "default")
        kube.discovery.resources()
    assert execplugin.runs(tmp_path / "runs") == 1


def test_exec_credential_refreshed_once_after_a_401(
    guarded: server.Sandbox, tmp_path: Path
) -> None:
    user = exec_user(tmp_path, f"stale-token,{TOKEN}")
    user["exec"]["command"] = str(tmp_path / "get-token")
    path = kubeconfig(tmp_path / "kubeconfig", guarded, user)
    with client.Client.from_kubeconfig(path, retry_policy=FAST_RETRY) as kube:
        assert kube.get("namespaces", "default")["metadata"]["name"] == "default"
        kube.get("namespaces", "default")
    assert execplugin.runs(tmp_path / "runs") == 2


def test_exec_credential_still_refused_is_unauthorized(
    guarded: server.Sandbox, tmp_path: Path
) -> None:
    user = exec_user(tmp_path, "bad-1,bad-2,bad-3")
    user["exec"]["command"] = str(tmp_path / "get-token")
    path = kubeconfig(tmp_path / "kubeconfig", guarded, user)
    with (
        client.Client.from_kubeconfig(path, retry_policy=FAST_RETRY) as kube,
        pytest.raises(errors.Unauthorized),
    ):
        kube.get("namespaces", "default")
    assert execplugin.runs(tmp_path / "runs") == 2


def test_relative_exec_command_resolved_next_to_the_kubeconfig(
    guarded: server.Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "bin").mkdir()
    user = exec_user(tmp_path / "bin", TOKEN)
    user["exec"]["command"] = "bin/get-token"
    path = kubeconfig(tmp_path / "kubeconfig", guarded, user)
    with client.Client.from_kubeconfig(path, retry_policy=FAST_RETRY) as kube:
        assert kube.get("namespaces", "default")


def test_token_file(guarded: server.Sandbox, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    path = kubeconfig(tmp_path / "kubeconfig", guarded, {"tokenFile": "token"})
    with client.Client.from_kubeconfig(path, retry_policy=FAST_RETRY) as kube:
        assert kube.get("namespaces", "default")


def test_in_cluster_token_file(guarded: server.Sandbox, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN)
    assert guarded.ca_certificate is not None
    (tmp_path / "ca.crt").write_bytes(guarded.ca_certificate)
    (tmp_path / "namespace").write_text("kube-system")
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(guarded.port)}
    cluster = config.load_in_cluster(environ=env, service_account_dir=tmp_path)
    assert cluster.server == guarded.url
    with client.Client(cluster, retry_policy=FAST_RETRY) as kube:
        assert kube.get("namespaces", cluster.namespace)["metadata"]["name"] == "kube-system"


def test_no_credentials_is_unauthorized(guarded: server.Sandbox, tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kubeconfig", guarded, {})
    with (
        client.Client.from_kubeconfig(path, retry_policy=FAST_RETRY) as kube,
        pytest.raises(errors.Unauthorized),
    ):
        kube.get_path("/api")


def test_a_refused_static_token_is_not_sent_twice(tmp_path: Path) -> None:
    with server.Sandbox(token=TOKEN, tls=False) as plain:
        proxy = FaultProxy(plain.url).start()
        try:
            cfg = config.ClusterConfig(server=proxy.url, source="t", context="t", token="nope")
            with (
                client.Client(cfg, retry_policy=FAST_RETRY) as kube,
                pytest.raises(errors.Unauthorized),
            ):
                kube.get_path("/version/")
        finally:
            proxy.stop()
    assert proxy.count("GET", "/version") == 1
