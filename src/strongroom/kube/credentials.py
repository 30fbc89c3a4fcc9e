"""Bearer tokens for requests: static, read from a file, or produced by an exec plugin.

A :class:`TokenSource` is shared by every thread of a client, so each implementation locks
around its cache. Exec plugins (``client.authentication.k8s.io/v1`` and ``v1beta1``) run with
``KUBERNETES_EXEC_INFO`` set; their credential is cached until its ``expirationTimestamp``
(or until :meth:`TokenSource.invalidate` after a 401). Tokens never appear in messages.

A plugin inherits the environment without Strongroom's secrets: no ``STRONGROOM_*`` variable
(``STRONGROOM_PASSPHRASE`` and the like) and none named by :func:`withhold` (a location's
``passphraseEnv``, say), while the ``env`` the kubeconfig gives the plugin still applies.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from strongroom.kube import config, errors

Now = Callable[[], datetime]
#: A token file is re-read at most this often (bound service-account tokens rotate).
TOKEN_FILE_TTL = timedelta(seconds=60)
#: A credential this close to its expiry is refreshed before use.
EXPIRY_SKEW = timedelta(seconds=10)
EXEC_TIMEOUT = 60.0
#: Environment variables with this prefix are Strongroom's own: exec plugins never see them.
WITHHELD_PREFIX = "STRONGROOM_"
_withheld: frozenset[str] = frozenset()


def withhold(names: Iterable[str]) -> None:
    """Keep these environment variables (secrets named in configuration) from exec plugins."""
    global _withheld  # one process-wide list, which the CLI extends
    _withheld = _withheld | {n for n in names if n}


def plugin_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without Strongroom's secrets: what an exec plugin inherits."""
    withheld = _withheld
    return {
        k: v for k, v in environ.items() if not k.startswith(WITHHELD_PREFIX) and k not in withheld
    }


def utc_now() -> datetime:
    """The wall clock, in UTC (the default ``now`` of every token source)."""
    return datetime.now(UTC)


class TokenSource(Protocol):
    """Where the ``Authorization: Bearer`` value of the next request comes from."""

    def token(self) -> str | None:
        """The current token, or None for anonymous requests."""

    def invalidate(self) -> None:
        """Forget a cached token (the server refused it); the next call fetches a new one."""


class NoToken:
    """Anonymous, or client-certificate authentication."""

    def token(self) -> str | None:
        return None

    def invalidate(self) -> None:
        return None


class StaticToken:
    """A token written in the kubeconfig."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "StaticToken(***)"

    def token(self) -> str | None:
        return self._value

    def invalidate(self) -> None:
        return None


class TokenFile:
    """A token read from a file, re-read every :data:`TOKEN_FILE_TTL`."""

    def __init__(self, path: str, *, now: Now = utc_now) -> None:
        self._path = path
        self._now = now
        self._lock = threading.Lock()
        self._value: str | None = None
        self._read_at: datetime | None = None

    def token(self) -> str | None:
        with self._lock:
            now = self._now()
            if self._value is None or self._read_at is None or now - self._read_at > TOKEN_FILE_TTL:
                try:
                    with open(self._path, encoding="utf-8") as handle:
                        self._value = handle.read().strip()
                except OSError as exc:
                    raise errors.CredentialError(
                        f"token file {self._path}: cannot read: {exc.strerror}"
                    ) from None
                self._read_at = now
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None


class ExecPlugin:
    """Runs an exec credential plugin and caches its token until it expires."""

    def __init__(
        self, spec: config.ExecConfig, *, server: str, ca_data: bytes | None, now: Now = utc_now
    ) -> None:
        self._spec = spec
        self._server = server
        self._ca_data = ca_data
        self._now = now
        self._lock = threading.Lock()
        self._value: str | None = None
        self._expires: datetime | None = None

    def token(self) -> str | None:
        with self._lock:
            if self._value is None or (
                self._expires is not None and self._now() + EXPIRY_SKEW >= self._expires
            ):
                self._value, self._expires = self._run()
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None

    def _exec_info(self) -> str:
        spec: dict[str, object] = {"interactive": False}
        if self._spec.provide_cluster_info:
            cluster: dict[str, object] = {"server": self._server}
            if self._ca_data:
                cluster["certificate-authority-data"] = base64.b64encode(self._ca_data).decode()
            spec["cluster"] = cluster
        return json.dumps(
            {"apiVersion": self._spec.api_version, "kind": "ExecCredential", "spec": spec}
        )

    def _run(self) -> tuple[str, datetime | None]:
        name = self._spec.command
        env = plugin_environment(os.environ)
        env.update(self._spec.env)
        env["KUBERNETES_EXEC_INFO"] = self._exec_info()
        try:
            proc = subprocess.run(
                [name, *self._spec.args],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=EXEC_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            hint = f" ({self._spec.install_hint})" if self._spec.install_hint else ""
            raise errors.CredentialError(f"exec plugin {name}: not found{hint}") from None
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise errors.CredentialError(f"exec plugin {name}: failed to run: {exc}") from None
        if proc.returncode != 0:
            raise errors.CredentialError(f"exec plugin {name}: exited with {proc.returncode}")
        return _parse_credential(name, self._spec.api_version, proc.stdout)


def _parse_credential(name: str, api_version: str, stdout: bytes) -> tuple[str, datetime | None]:
    try:
        doc = json.loads(stdout)
    except ValueError:
        raise errors.CredentialError(f"exec plugin {name}: output is not JSON") from None
    if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
        raise errors.CredentialError(f"exec plugin {name}: output is not an ExecCredential")
    if doc.get("apiVersion") != api_version:
        raise errors.CredentialError(
            f"exec plugin {name}: returned apiVersion {doc.get('apiVersion')!r}, "
            f"expected {api_version!r}"
        )
    status = doc.get("status")
    token = status.get("token") if isinstance(status, dict) else None
    if not isinstance(token, str) or not token:
        raise errors.CredentialError(f"exec plugin {name}: credential has no token")
    assert isinstance(status, dict)
    expiry = status.get("expirationTimestamp")
    if not expiry:
        return token, None
    try:
        expires = datetime.fromisoformat(str(expiry).replace("Z", "+00:00"))
    except ValueError:
        raise errors.CredentialError(
            f"exec plugin {name}: expirationTimestamp {expiry!r} is not RFC 3339"
        ) from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return token, expires


def token_source(cluster: config.ClusterConfig, *, now: Now = utc_now) -> TokenSource:
    """The token source a :class:`~strongroom.kube.config.ClusterConfig` asks for.

    Precedence as in client-go: exec plugin, then token file, then static token.
    """
    if cluster.exec is not None:
        return ExecPlugin(cluster.exec, server=cluster.server, ca_data=cluster.ca_data, now=now)
    if cluster.token_file:
        return TokenFile(cluster.token_file, now=now)
    if cluster.token:
        return StaticToken(cluster.token)
    return NoToken()
