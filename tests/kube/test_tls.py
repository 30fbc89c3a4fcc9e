"""TLS: CA bundles, server names, insecure mode and client certificates over real TLS."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.kube import client, config, errors
from strongroom.sandbox import server
from tests.kube.conftest import FAST_RETRY
from tests.kube.tlsproxy import MutualTLSProxy, Pki, make_pki

TOKEN = "tls-token"


@pytest.fixture
def https() -> Iterator[server.Sandbox]:
    with server.Sandbox(token=TOKEN) as sandbox:
        yield sandbox


def cluster(url: str, **fields: object) -> config.ClusterConfig:
    return config.ClusterConfig(server=url, source="test", context="test", **fields)  # type: ignore[arg-type]


def test_trusted_ca_data(https: server.Sandbox) -> None:
    cfg = cluster(https.url, ca_data=https.ca_certificate, token=TOKEN)
    with client.Client(cfg, retry_policy=FAST_RETRY) as kube:
        assert kube.get("namespaces", "default")


def test_untrusted_server_fails_fast_and_is_not_retried(https: server.Sandbox) -> None:
    began = time.monotonic()
    with (
        client.Client(cluster(https.url, token=TOKEN)) as kube,
        pytest.raises(errors.TLSError) as info,
    ):
        kube.get("namespaces", "default")
    assert time.monotonic() - began < 2
    assert "certificate verify failed" in str(info.value)
    assert TOKEN not in str(info.value) and info.value.exit_code == 8


def test_insecure_skip_tls_verify(https: server.Sandbox) -> None:
    cfg = cluster(https.url, token=TOKEN, insecure_skip_tls_verify=True)
    with client.Client(cfg, retry_policy=FAST_RETRY) as kube:
        assert kube.get("namespaces", "default")


def test_tls_server_name(https: server.Sandbox) -> None:
    ok = cluster(https.url, ca_data=https.ca_certificate, token=TOKEN, tls_server_name="localhost")
    with client.Client(ok, retry_policy=FAST_RETRY) as kube:
        assert kube.get("namespaces", "default")
    wrong = cluster(
        https.url, ca_data=https.ca_certificate, token=TOKEN, tls_server_name="other.example"
    )
    with client.Client(wrong, retry_policy=FAST_RETRY) as kube, pytest.raises(errors.TLSError):
        kube.get("namespaces", "default")


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture
def mtls(sandbox: server.Sandbox, pki: Pki) -> Iterator[MutualTLSProxy]:
    proxy = MutualTLSProxy(pki, sandbox.port).start()
    yield proxy
    proxy.stop()


def test_client_certificate_data(
    mtls: MutualTLSProxy, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cfg = cluster(
        mtls.url, ca_data=pki.ca_pem, client_cert=pki.client_cert, client_key=pki.client_key
    )
    with client.Client(cfg, retry_policy=FAST_RETRY) as kube:
        assert list(tmp_path.iterdir()) == [], "the key is loaded, its file already removed"
        assert kube.get("namespaces", "default")["metadata"]["name"] == "default"


def test_an_unusable_client_key_is_a_configuration_error(pki: Pki) -> None:
    cfg = cluster(
        "https://127.0.0.1:1", ca_data=pki.ca_pem, client_cert=pki.client_cert, client_key=b"x"
    )
    with pytest.raises(errors.KubeConfigError, match="client certificate or key") as info:
        client.Client(cfg)
    assert info.value.exit_code == 9


def test_client_certificate_files_from_a_kubeconfig(
    mtls: MutualTLSProxy, pki: Pki, tmp_path: Path
) -> None:
    (tmp_path / "ca.crt").write_bytes(pki.ca_pem)
    (tmp_path / "admin.crt").write_bytes(pki.client_cert)
    (tmp_path / "admin.key").write_bytes(pki.client_key)
    (tmp_path / "kubeconfig").write_text(
        f"""
apiVersion: v1
kind: Config
clusters: [{{name: m, cluster: {{server: "{mtls.url}", certificate-authority: ca.crt}}}}]
users: [{{name: a, user: {{client-certificate: admin.crt, client-key: admin.key}}}}]
contexts: [{{name: m, context: {{cluster: m, user: a}}}}]
current-context: m
"""
    )
    with client.Client.from_kubeconfig(tmp_path / "kubeconfig", retry_policy=FAST_RETRY) as kube:
        assert "configmaps" in {r.name for r in kube.discovery.resources()}


def test_without_a_client_certificate_the_handshake_is_refused(
    mtls: MutualTLSProxy, pki: Pki
) -> None:
    with (
        client.Client(cluster(mtls.url, ca_data=pki.ca_pem), retry_policy=FAST_RETRY) as kube,
        pytest.raises(errors.ApiUnreachable),
    ):
        kube.get("namespaces", "default")
    deadline = time.monotonic() + 5
    while mtls.handshakes_refused == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert mtls.handshakes_refused >= 1
