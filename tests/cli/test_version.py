"""``strongroom version`` reaches the cluster through the kubeconfig; each failure is one line."""

from __future__ import annotations

import pathlib

import yaml

from strongroom.errors import ExitCode
from strongroom.sandbox import server
from tests.cli.helpers import Cli
from tests.fixtures.ports import free_port


def test_client_and_server_versions(cli: Cli, sandbox_kubeconfig: pathlib.Path) -> None:
    result = cli("--kubeconfig", str(sandbox_kubeconfig), "version", "-o", "json")
    assert result.code == ExitCode.OK, result.err
    doc = result.json()
    assert doc["clientVersion"]["version"]
    assert doc["serverVersion"]["gitVersion"].startswith("v1.")
    table = cli("--kubeconfig", str(sandbox_kubeconfig), "version")
    assert table.out.startswith("Client:") and "Server:" in table.out


def test_client_only_needs_no_cluster(cli: Cli, tmp_path: pathlib.Path) -> None:
    result = cli("--kubeconfig", str(tmp_path / "absent"), "version", "--client-only")
    assert result.code == ExitCode.OK


def test_missing_kubeconfig(cli: Cli, tmp_path: pathlib.Path) -> None:
    result = cli("--kubeconfig", str(tmp_path / "absent"), "version")
    assert result.code == ExitCode.INVALID_CONFIG
    assert str(tmp_path / "absent") in result.err and result.err.count("\n") == 1


def test_malformed_kubeconfig(cli: Cli, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("clusters: [\n")
    result = cli("--kubeconfig", str(path), "version")
    assert result.code == ExitCode.INVALID_CONFIG
    assert str(path) in result.err and "Traceback" not in result.err


def test_unknown_context(cli: Cli, sandbox_kubeconfig: pathlib.Path) -> None:
    result = cli("--kubeconfig", str(sandbox_kubeconfig), "--context", "elsewhere", "version")
    assert result.code == ExitCode.INVALID_CONFIG
    assert "elsewhere" in result.err


def test_unreachable_api_server(cli: Cli, sandbox: server.Sandbox, tmp_path: pathlib.Path) -> None:
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    doc = yaml.safe_load(path.read_text())
    url = f"http://127.0.0.1:{free_port()}"
    doc["clusters"][0]["cluster"]["server"] = url
    path.write_text(yaml.safe_dump(doc))
    result = cli("--kubeconfig", str(path), "version")
    assert result.code == ExitCode.UNREACHABLE
    assert url in result.err and result.err.count("\n") == 1


def test_wrong_token_is_permission_denied(cli: Cli, tmp_path: pathlib.Path) -> None:
    with server.Sandbox(token="right-token") as cluster:
        path = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        doc = yaml.safe_load(path.read_text())
        doc["users"][0]["user"]["token"] = "wrong-token"
        path.write_text(yaml.safe_dump(doc))
        result = cli("--kubeconfig", str(path), "version")
    assert result.code == ExitCode.PERMISSION_DENIED, result.err
    assert "wrong-token" not in result.err and result.err.count("\n") == 1
