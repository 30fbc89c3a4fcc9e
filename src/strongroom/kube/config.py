"""Where the API server is and how to authenticate: kubeconfig files or in-cluster config.

:func:`load` returns a frozen :class:`ClusterConfig`. Files named in a kubeconfig
(certificate-authority, client-certificate, client-key) are read at load time, relative to the
kubeconfig's folder; a token file and an exec plugin are kept as references and evaluated by
:mod:`strongroom.kube.credentials` when a request needs a token. Every failure is a
:class:`~strongroom.kube.errors.KubeConfigError` whose one-line message names the file or
context, never a token or key.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from strongroom.kube import errors

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
IN_CLUSTER = "in-cluster"
EXEC_API_VERSIONS = (
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
)


@dataclasses.dataclass(frozen=True)
class ExecConfig:
    """An exec credential plugin (``users[].user.exec``)."""

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = EXEC_API_VERSIONS[0]
    provide_cluster_info: bool = False
    install_hint: str = ""


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    """One API server and the credentials to use with it. Secret fields never appear in repr."""

    server: str
    #: Where this came from, for messages: kubeconfig path(s) or ``in-cluster``.
    source: str
    context: str
    namespace: str = "default"
    ca_data: bytes | None = dataclasses.field(default=None, repr=False)
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = None
    client_cert: bytes | None = dataclasses.field(default=None, repr=False)
    client_key: bytes | None = dataclasses.field(default=None, repr=False)
    token: str | None = dataclasses.field(default=None, repr=False)
    token_file: str | None = None
    exec: ExecConfig | None = None


def load(
    kubeconfig: str | os.PathLike[str] | None = None,
    context: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
) -> ClusterConfig:
    """Load ``kubeconfig`` (else ``$KUBECONFIG``, else ``~/.kube/config``, else in-cluster).

    ``context`` selects a context by name; without it the ``current-context`` is used.
    """
    env = os.environ if environ is None else environ
    if kubeconfig is not None:
        paths = [Path(kubeconfig)]
        if not paths[0].is_file():
            raise errors.KubeConfigError(f"kubeconfig {paths[0]}: no such file")
    elif env.get("KUBECONFIG"):
        paths = [Path(p) for p in env["KUBECONFIG"].split(os.pathsep) if p]
        paths = [p for p in paths if p.is_file()]
        if not paths:
            raise errors.KubeConfigError(f"KUBECONFIG={env['KUBECONFIG']}: no such file")
    else:
        default = Path(env.get("HOME", str(Path.home()))) / ".kube" / "config"
        if not default.is_file() and env.get("KUBERNETES_SERVICE_HOST"):
            return load_in_cluster(environ=env, service_account_dir=service_account_dir)
        if not default.is_file():
            raise errors.KubeConfigError(f"kubeconfig {default}: no such file")
        paths = [default]
    return from_documents([(p, _read_yaml(p)) for p in paths], context)


def load_in_cluster(
    *,
    environ: Mapping[str, str] | None = None,
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
) -> ClusterConfig:
    """The pod's service account: ``KUBERNETES_SERVICE_HOST/PORT``, token, CA, namespace."""
    env = os.environ if environ is None else environ
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise errors.KubeConfigError(
            "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set"
        )
    token_file = service_account_dir / "token"
    ca_file = service_account_dir / "ca.crt"
    if not token_file.is_file():
        raise errors.KubeConfigError(f"in-cluster config: no token file {token_file}")
    ns_file = service_account_dir / "namespace"
    namespace = ns_file.read_text().strip() if ns_file.is_file() else "default"
    host = f"[{host}]" if ":" in host else host
    return ClusterConfig(
        server=f"https://{host}:{port}",
        source=IN_CLUSTER,
        context=IN_CLUSTER,
        namespace=namespace or "default",
        ca_data=_read_file(ca_file, IN_CLUSTER) if ca_file.is_file() else None,
        token_file=str(token_file),
    )


def from_documents(
    documents: Sequence[tuple[Path, Any]], context: str | None = None
) -> ClusterConfig:
    """Merge parsed kubeconfig documents as kubectl does (first definition of a name wins)."""
    source = os.pathsep.join(str(p) for p, _ in documents)
    merged, current = _merge(documents)
    name = context or current
    if not name:
        raise errors.KubeConfigError(f"kubeconfig {source}: no current-context and no --context")
    if name not in merged["contexts"]:
        raise errors.KubeConfigError(f"kubeconfig {source}: context {name!r} not found")
    _, ctx = merged["contexts"][name]
    cluster_name, user_name = str(ctx.get("cluster") or ""), str(ctx.get("user") or "")
    if cluster_name not in merged["clusters"]:
        raise errors.KubeConfigError(
            f"kubeconfig {source}: context {name!r} names cluster {cluster_name!r}, not found"
        )
    cluster_path, cluster = merged["clusters"][cluster_name]
    user_path, user = merged["users"].get(user_name, (cluster_path, {}))
    if user_name and user_name not in merged["users"]:
        raise errors.KubeConfigError(
            f"kubeconfig {source}: context {name!r} names user {user_name!r}, not found"
        )
    where = f"kubeconfig {source} context {name!r}"
    _check_unsupported(user, where)
    server = str(cluster.get("server") or "")
    if not server:
        raise errors.KubeConfigError(f"{where}: cluster {cluster_name!r} has no server")
    return ClusterConfig(
        server=server.rstrip("/"),
        source=source,
        context=name,
        namespace=str(ctx.get("namespace") or "default"),
        ca_data=_data_or_file(cluster, "certificate-authority", cluster_path, where),
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
        tls_server_name=_opt_str(cluster.get("tls-server-name")),
        proxy_url=_opt_str(cluster.get("proxy-url")),
        client_cert=_data_or_file(user, "client-certificate", user_path, where),
        client_key=_data_or_file(user, "client-key", user_path, where),
        token=_opt_str(user.get("token")),
        token_file=_opt_path(user.get("tokenFile"), user_path),
        exec=_exec_config(user.get("exec"), user_path, where),
    )


_Entries = dict[str, dict[str, tuple[Path, dict[str, Any]]]]


def _merge(documents: Sequence[tuple[Path, Any]]) -> tuple[_Entries, str]:
    merged: _Entries = {"clusters": {}, "users": {}, "contexts": {}}
    current = ""
    for path, doc in documents:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise errors.KubeConfigError(f"kubeconfig {path}: not a mapping")
        current = current or str(doc.get("current-context") or "")
        for section, field in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for name, body in _named_entries(path, doc, section, field):
                merged[section].setdefault(name, (path, body))
    return merged, current


def _check_unsupported(user: Mapping[str, Any], where: str) -> None:
    provider = user.get("auth-provider")
    if provider:
        name = provider.get("name", "?") if isinstance(provider, dict) else "?"
        raise errors.KubeConfigError(
            f"{where}: auth-provider {name!r} is not supported; use an exec credential plugin"
        )
    if user.get("username") or user.get("password"):
        raise errors.KubeConfigError(f"{where}: basic authentication is not supported")


def _named_entries(
    path: Path, doc: Mapping[str, Any], section: str, field: str
) -> list[tuple[str, dict[str, Any]]]:
    entries = doc.get(section) or []
    if not isinstance(entries, list):
        raise errors.KubeConfigError(f"kubeconfig {path}: {section} is not a list")
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise errors.KubeConfigError(f"kubeconfig {path}: an entry of {section} has no name")
        body = entry.get(field) or {}
        if not isinstance(body, dict):
            raise errors.KubeConfigError(
                f"kubeconfig {path}: {section} {entry['name']!r} has no {field} mapping"
            )
        out.append((entry["name"], body))
    return out


def _exec_config(raw: Any, base: Path, where: str) -> ExecConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("command"), str):
        raise errors.KubeConfigError(f"{where}: exec plugin has no command")
    api_version = str(raw.get("apiVersion") or "")
    if api_version not in EXEC_API_VERSIONS:
        raise errors.KubeConfigError(
            f"{where}: exec plugin apiVersion {api_version!r} is not supported"
        )
    command = raw["command"]
    if os.sep in command and not os.path.isabs(command):
        command = str(base.parent / command)
    env_entries = raw.get("env") or []
    if not isinstance(env_entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) for e in env_entries
    ):
        raise errors.KubeConfigError(f"{where}: exec plugin env must be a list of name/value")
    env = tuple((e["name"], str(e.get("value", ""))) for e in env_entries)
    args = raw.get("args") or []
    if not isinstance(args, list):
        raise errors.KubeConfigError(f"{where}: exec plugin args must be a list")
    return ExecConfig(
        command=command,
        args=tuple(str(a) for a in args),
        env=env,
        api_version=api_version,
        provide_cluster_info=bool(raw.get("provideClusterInfo", False)),
        install_hint=_trim_hint(raw.get("installHint")),
    )


def _trim_hint(hint: Any) -> str:
    return " ".join(str(hint).split())[:200] if hint else ""


def _data_or_file(body: Mapping[str, Any], key: str, base: Path, where: str) -> bytes | None:
    data = body.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError):
            raise errors.KubeConfigError(f"{where}: {key}-data is not valid base64") from None
    path = _opt_path(body.get(key), base)
    return None if path is None else _read_file(Path(path), where)


def _opt_path(value: Any, base: Path) -> str | None:
    if not value:
        return None
    path = Path(os.path.expanduser(str(value)))
    return str(path if path.is_absolute() else base.parent / path)


def _opt_str(value: Any) -> str | None:
    return str(value) if value else None


def _read_file(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise errors.KubeConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None


def _read_yaml(path: Path) -> Any:
    text = _read_file(path, f"kubeconfig {path}")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise errors.KubeConfigError(f"kubeconfig {path}: not valid YAML{line}") from None
