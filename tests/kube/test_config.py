"""Loading kubeconfig files and in-cluster configuration into a ClusterConfig."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom import errors as root_errors
from strongroom.kube import config, errors

CA = b"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"


def kubeconfig_doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "one",
        "clusters": [
            {"name": "c1", "cluster": {"server": "https://one.example:6443/"}},
            {
                "name": "c2",
                "cluster": {
                    "server": "https://two.example",
                    "certificate-authority-data": base64.b64encode(CA).decode(),
                    "tls-server-name": "kubernetes",
                },
            },
        ],
        "users": [
            {"name": "u1", "user": {"token": "secret-token-1"}},
            {"name": "u2", "user": {"tokenFile": "token.txt"}},
        ],
        "contexts": [
            {"name": "one", "context": {"cluster": "c1", "user": "u1"}},
            {"name": "two", "context": {"cluster": "c2", "user": "u2", "namespace": "shop"}},
        ],
    }
    doc.update(overrides)
    return doc


def write(path: Path, doc: Any) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def test_current_context_and_token(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path / "config", kubeconfig_doc()))
    assert cfg.context == "one"
    assert cfg.server == "https://one.example:6443"
    assert cfg.token == "secret-token-1"
    assert cfg.namespace == "default"
    assert cfg.ca_data is None
    assert "secret-token-1" not in repr(cfg)


def test_explicit_context_token_file_relative_and_ca_data(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path / "config", kubeconfig_doc()), context="two")
    assert cfg.context == "two"
    assert cfg.namespace == "shop"
    assert cfg.ca_data == CA
    assert cfg.tls_server_name == "kubernetes"
    assert cfg.token_file == str(tmp_path / "token.txt")
    assert cfg.token is None


def test_client_certificate_and_ca_files_resolved_next_to_the_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_bytes(CA)
    (tmp_path / "pki" / "client.crt").write_bytes(b"CERT")
    (tmp_path / "pki" / "client.key").write_bytes(b"KEY")
    doc = kubeconfig_doc(
        clusters=[
            {
                "name": "c1",
                "cluster": {"server": "https://x", "certificate-authority": "pki/ca.crt"},
            }
        ],
        users=[
            {
                "name": "u1",
                "user": {
                    "client-certificate": "pki/client.crt",
                    "client-key": str(tmp_path / "pki/client.key"),
                },
            }
        ],
    )
    cfg = config.load(write(tmp_path / "config", doc), context="one")
    assert (cfg.ca_data, cfg.client_cert, cfg.client_key) == (CA, b"CERT", b"KEY")
    assert "KEY" not in repr(cfg)


def test_client_certificate_data_and_insecure(tmp_path: Path) -> None:
    doc = kubeconfig_doc(
        clusters=[
            {"name": "c1", "cluster": {"server": "https://x", "insecure-skip-tls-verify": True}}
        ],
        users=[
            {
                "name": "u1",
                "user": {
                    "client-certificate-data": base64.b64encode(b"CERT").decode(),
                    "client-key-data": base64.b64encode(b"KEY").decode(),
                },
            }
        ],
    )
    cfg = config.load(write(tmp_path / "config", doc))
    assert cfg.insecure_skip_tls_verify
    assert (cfg.client_cert, cfg.client_key) == (b"CERT", b"KEY")


def test_exec_plugin_config(tmp_path: Path) -> None:
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "./bin/get-token",
            "args": ["--cluster", "prod"],
            "env": [{"name": "REGION", "value": "eu"}],
            "provideClusterInfo": True,
            "interactiveMode": "Never",
        }
    }
    doc = kubeconfig_doc(users=[{"name": "u1", "user": user}])
    cfg = config.load(write(tmp_path / "config", doc))
    assert cfg.exec == config.ExecConfig(
        command=str(tmp_path / "bin" / "get-token"),
        args=("--cluster", "prod"),
        env=(("REGION", "eu"),),
        api_version="client.authentication.k8s.io/v1beta1",
        provide_cluster_info=True,
    )


def test_exec_plugin_unknown_api_version(tmp_path: Path) -> None:
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1alpha1", "command": "x"}}
    path = write(tmp_path / "config", kubeconfig_doc(users=[{"name": "u1", "user": user}]))
    with pytest.raises(errors.KubeConfigError, match="v1alpha1"):
        config.load(path)


def test_kubeconfig_env_list_merges_first_wins(tmp_path: Path) -> None:
    first = write(tmp_path / "a", {"current-context": "two", "contexts": [], "clusters": []})
    second = write(tmp_path / "b", kubeconfig_doc())
    missing = tmp_path / "missing"
    env = {"KUBECONFIG": f"{first}:{missing}:{second}", "HOME": str(tmp_path)}
    cfg = config.load(environ=env)
    assert cfg.context == "two"
    assert cfg.source == f"{first}:{second}"


def test_default_path_under_home(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    write(tmp_path / ".kube" / "config", kubeconfig_doc())
    assert config.load(environ={"HOME": str(tmp_path)}).context == "one"


def test_missing_context_names_it(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig_doc())
    with pytest.raises(errors.KubeConfigError) as info:
        config.load(path, context="prod")
    assert "'prod'" in str(info.value) and str(path) in str(info.value)
    assert info.value.exit_code == root_errors.ExitCode.INVALID_CONFIG
    assert isinstance(info.value, root_errors.ConfigError)


def test_context_naming_a_missing_cluster(tmp_path: Path) -> None:
    doc = kubeconfig_doc(contexts=[{"name": "one", "context": {"cluster": "nope", "user": "u1"}}])
    with pytest.raises(errors.KubeConfigError, match="cluster 'nope'"):
        config.load(write(tmp_path / "config", doc))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(errors.KubeConfigError, match="no such file"):
        config.load(tmp_path / "nope")
    with pytest.raises(errors.KubeConfigError, match="KUBECONFIG"):
        config.load(environ={"KUBECONFIG": str(tmp_path / "nope")})
    with pytest.raises(errors.KubeConfigError, match=r"\.kube"):
        config.load(environ={"HOME": str(tmp_path)})


def test_missing_referenced_file(tmp_path: Path) -> None:
    doc = kubeconfig_doc(
        clusters=[
            {"name": "c1", "cluster": {"server": "https://x", "certificate-authority": "ca.pem"}}
        ]
    )
    with pytest.raises(errors.KubeConfigError, match="ca.pem"):
        config.load(write(tmp_path / "config", doc))


def test_malformed_yaml_never_echoes_content(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("users:\n- name: u\n  user: {token: 'sekrit\n")
    with pytest.raises(errors.KubeConfigError) as info:
        config.load(path)
    assert "not valid YAML" in str(info.value)
    assert "sekrit" not in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_base64_and_wrong_shapes(tmp_path: Path) -> None:
    bad_ca = kubeconfig_doc(
        clusters=[
            {"name": "c1", "cluster": {"server": "https://x", "certificate-authority-data": "!!"}}
        ]
    )
    with pytest.raises(errors.KubeConfigError, match="base64"):
        config.load(write(tmp_path / "a", bad_ca))
    with pytest.raises(errors.KubeConfigError, match="not a list"):
        config.load(write(tmp_path / "b", kubeconfig_doc(users={"u1": {}})))
    with pytest.raises(errors.KubeConfigError, match="not a mapping"):
        config.load(write(tmp_path / "c", ["a", "b"]))
    no_server = kubeconfig_doc(clusters=[{"name": "c1", "cluster": {}}])
    with pytest.raises(errors.KubeConfigError, match="no server"):
        config.load(write(tmp_path / "d", no_server))


def test_unsupported_auth_provider(tmp_path: Path) -> None:
    user = {"auth-provider": {"name": "gcp", "config": {"access-token": "tok"}}}
    path = write(tmp_path / "config", kubeconfig_doc(users=[{"name": "u1", "user": user}]))
    with pytest.raises(errors.KubeConfigError, match="'gcp'") as info:
        config.load(path)
    assert "tok" not in str(info.value)


def test_in_cluster(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("sa-token\n")
    (tmp_path / "ca.crt").write_bytes(CA)
    (tmp_path / "namespace").write_text("backup-system")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    cfg = config.load_in_cluster(environ=env, service_account_dir=tmp_path)
    assert cfg.server == "https://10.0.0.1:443"
    assert (cfg.ca_data, cfg.namespace, cfg.context) == (CA, "backup-system", "in-cluster")
    assert cfg.token_file == str(tmp_path / "token")
    ipv6 = config.load_in_cluster(
        environ={"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"},
        service_account_dir=tmp_path,
    )
    assert ipv6.server == "https://[fd00::1]:443"


def test_in_cluster_is_the_fallback_without_a_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("sa-token")
    env = {"HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "6443"}
    cfg = config.load(environ=env, service_account_dir=tmp_path)
    assert cfg.source == "in-cluster" and cfg.server == "https://h:6443"


def test_in_cluster_without_env_or_token(tmp_path: Path) -> None:
    with pytest.raises(errors.KubeConfigError, match="KUBERNETES_SERVICE_HOST"):
        config.load_in_cluster(environ={}, service_account_dir=tmp_path)
    env = {"KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "1"}
    with pytest.raises(errors.KubeConfigError, match="token"):
        config.load_in_cluster(environ=env, service_account_dir=tmp_path)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
sections = st.fixed_dictionaries(
    {},
    optional={
        "current-context": yaml_values,
        "clusters": yaml_values
        | st.lists(st.dictionaries(st.sampled_from(["name", "cluster"]), yaml_values)),
        "users": yaml_values
        | st.lists(st.dictionaries(st.sampled_from(["name", "user"]), yaml_values)),
        "contexts": yaml_values
        | st.lists(st.dictionaries(st.sampled_from(["name", "context"]), yaml_values)),
    },
)


@settings(max_examples=300, deadline=None)
@given(doc=yaml_values | sections, context=st.none() | st.text(max_size=4))
def test_any_document_yields_a_config_or_a_config_error(doc: Any, context: str | None) -> None:
    try:
        cfg = config.from_documents([(Path("/nonexistent/kubeconfig"), doc)], context)
    except errors.KubeConfigError as exc:
        assert "\n" not in str(exc)
    else:
        assert cfg.server


exec_fields = st.fixed_dictionaries(
    {
        "command": st.text(min_size=1, max_size=5),
        "apiVersion": st.sampled_from(config.EXEC_API_VERSIONS),
    },
    optional={"args": yaml_values, "env": yaml_values, "provideClusterInfo": yaml_values},
)


@settings(max_examples=200, deadline=None)
@given(exec_spec=exec_fields | yaml_values)
def test_any_exec_section_yields_a_config_or_a_config_error(exec_spec: Any) -> None:
    doc = kubeconfig_doc(users=[{"name": "u1", "user": {"exec": exec_spec}}])
    try:
        cfg = config.from_documents([(Path("/k/config"), doc)])
    except errors.KubeConfigError as exc:
        assert "\n" not in str(exc)
    else:
        assert cfg.exec is not None or exec_spec is None
