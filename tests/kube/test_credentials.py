"""Token sources: exec credential plugins (cached until expiry), token files, static tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from strongroom.kube import config, credentials, errors
from tests.kube import execplugin

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Now:
    def __init__(self) -> None:
        self.value = T0

    def __call__(self) -> datetime:
        return self.value


def plugin(
    tmp_path: Path, api: str = "client.authentication.k8s.io/v1", **env: str
) -> config.ExecConfig:
    script = execplugin.write_plugin(tmp_path)
    values = {"COUNTER": str(tmp_path / "runs"), "TOKENS": "tok-1,tok-2,tok-3", "EXEC_API": api}
    values.update(env)
    return config.ExecConfig(command=str(script), env=execplugin.env(**values), api_version=api)


def test_exec_credential_cached_until_expiry(tmp_path: Path) -> None:
    now = Now()
    expires = (T0 + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    source = credentials.ExecPlugin(
        plugin(tmp_path, EXPIRES=expires), server="https://x", ca_data=None, now=now
    )
    assert source.token() == "tok-1"
    assert source.token() == "tok-1"
    assert execplugin.runs(tmp_path / "runs") == 1
    now.value = T0 + timedelta(minutes=4)
    assert source.token() == "tok-1"
    now.value = T0 + timedelta(minutes=4, seconds=55)  # within the refresh skew
    assert source.token() == "tok-2"
    assert execplugin.runs(tmp_path / "runs") == 2


def test_exec_credential_without_expiry_is_kept_until_invalidated(tmp_path: Path) -> None:
    now = Now()
    source = credentials.ExecPlugin(plugin(tmp_path), server="https://x", ca_data=None, now=now)
    assert source.token() == "tok-1"
    now.value = T0 + timedelta(days=30)
    assert source.token() == "tok-1"
    source.invalidate()
    assert source.token() == "tok-2"
    assert execplugin.runs(tmp_path / "runs") == 2


def test_exec_v1beta1_and_cluster_info(tmp_path: Path) -> None:
    spec = plugin(
        tmp_path, api="client.authentication.k8s.io/v1beta1", EXEC_INFO_OUT=str(tmp_path / "info")
    )
    spec = config.ExecConfig(
        command=spec.command, env=spec.env, api_version=spec.api_version, provide_cluster_info=True
    )
    source = credentials.ExecPlugin(spec, server="https://api.example", ca_data=b"CA")
    assert source.token() == "tok-1"
    info = json.loads((tmp_path / "info").read_text())
    assert info["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert info["spec"]["cluster"] == {
        "server": "https://api.example",
        "certificate-authority-data": "Q0E=",
    }


def test_exec_plugins_do_not_see_strongroom_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credentials, "_withheld", frozenset())
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", "the repository passphrase")
    monkeypatch.setenv("STRONGROOM_IDENTITY", "/keys/recovery.txt")
    monkeypatch.setenv("TEAM_PASS", "a passphrase a location names")
    monkeypatch.setenv("HOME", str(tmp_path))
    credentials.withhold(["TEAM_PASS"])
    spec = plugin(tmp_path, ENV_OUT=str(tmp_path / "env"), PLUGIN_REGION="eu-west-1")
    assert credentials.ExecPlugin(spec, server="s", ca_data=None).token() == "tok-1"
    seen = json.loads((tmp_path / "env").read_text())
    assert not {"STRONGROOM_PASSPHRASE", "STRONGROOM_IDENTITY", "TEAM_PASS"} & seen.keys()
    assert "the repository passphrase" not in (tmp_path / "env").read_text()
    assert seen["HOME"] == str(tmp_path) and seen["PATH"]
    assert seen["PLUGIN_REGION"] == "eu-west-1"  # the kubeconfig's env for the plugin
    assert "KUBERNETES_EXEC_INFO" in seen


def test_exec_failures_are_credential_errors_without_the_output(tmp_path: Path) -> None:
    failing = credentials.ExecPlugin(plugin(tmp_path, FAIL="1"), server="s", ca_data=None)
    with pytest.raises(errors.CredentialError, match="exited with 3"):
        failing.token()
    (tmp_path / "b").mkdir()
    wrong_api = plugin(tmp_path / "b", EXEC_API="client.authentication.k8s.io/v1beta1")
    wrong_api = config.ExecConfig(
        command=wrong_api.command, env=wrong_api.env, api_version=config.EXEC_API_VERSIONS[0]
    )
    with pytest.raises(errors.CredentialError, match="apiVersion") as info:
        credentials.ExecPlugin(wrong_api, server="s", ca_data=None).token()
    assert "tok-" not in str(info.value)
    missing = config.ExecConfig(command=str(tmp_path / "nope"), install_hint="install nope")
    with pytest.raises(errors.CredentialError, match="not found .install nope."):
        credentials.ExecPlugin(missing, server="s", ca_data=None).token()


def test_token_file_reread_after_a_minute(tmp_path: Path) -> None:
    now = Now()
    path = tmp_path / "token"
    path.write_text("first\n")
    source = credentials.TokenFile(str(path), now=now)
    assert source.token() == "first"
    path.write_text("second")
    now.value = T0 + timedelta(seconds=30)
    assert source.token() == "first"
    now.value = T0 + timedelta(seconds=61)
    assert source.token() == "second"
    path.unlink()
    source.invalidate()
    with pytest.raises(errors.CredentialError, match="token file"):
        source.token()


def test_precedence_exec_then_token_file_then_token(tmp_path: Path) -> None:
    base = config.ClusterConfig(server="https://x", source="k", context="c")
    assert isinstance(credentials.token_source(base), credentials.NoToken)
    with_token = config.ClusterConfig(server="https://x", source="k", context="c", token="t")
    assert with_token.token and credentials.token_source(with_token).token() == "t"
    assert "t)" not in repr(credentials.token_source(with_token)).replace("***)", "")
    (tmp_path / "tf").write_text("from-file")
    both = config.ClusterConfig(
        server="https://x", source="k", context="c", token="t", token_file=str(tmp_path / "tf")
    )
    assert credentials.token_source(both).token() == "from-file"
    exec_too = config.ClusterConfig(
        server="https://x", source="k", context="c", token="t", exec=plugin(tmp_path)
    )
    assert credentials.token_source(exec_too).token() == "tok-1"
