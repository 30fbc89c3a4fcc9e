"""HTTP to one API server through the official ``kubernetes`` client's raw layer.

This is the only module that imports the client library (and urllib3 under it), and the only
place their exceptions are translated into :mod:`strongroom.kube.errors`. It sends one request
and returns the raw JSON body; it never deserialises into the library's model classes, and it
does not retry (the client's retry policy does). See docs/adr/0003-kubernetes-client.md.

Authentication: the ``Authorization`` header comes from a
:class:`~strongroom.kube.credentials.TokenSource` on every request; after a 401 the source is
invalidated and the request sent once more with a fresh token. Client certificates given as
data are written to a private temporary folder (0700, files 0600) for the life of the
transport, because the TLS stack loads them from files; :meth:`Transport.close` removes it.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import tempfile
import urllib.parse
import warnings
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import urllib3.exceptions
from kubernetes import client as k8s_client
from kubernetes.client import exceptions as k8s_exceptions

from strongroom.kube import config, credentials, errors

Query = Sequence[tuple[str, str]]
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
JSON = "application/json"


class Transport:
    """Sends requests to the API server of one :class:`~strongroom.kube.config.ClusterConfig`.

    Safe to share between threads: the connection pool holds up to ``pool_size`` connections.
    """

    def __init__(
        self,
        cluster: config.ClusterConfig,
        tokens: credentials.TokenSource,
        *,
        pool_size: int = 16,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.server = cluster.server
        self._tokens = tokens
        self._timeouts = (connect_timeout, read_timeout)
        self._connect_timeout = connect_timeout
        self._tmpdir: str | None = None
        conf = k8s_client.Configuration(host=cluster.server)
        conf.verify_ssl = not cluster.insecure_skip_tls_verify
        if cluster.insecure_skip_tls_verify:
            # asked for explicitly in the kubeconfig; kubectl does not warn per request either
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        if cluster.ca_data:
            conf.ca_cert_data = cluster.ca_data.decode("ascii", errors="replace")
        if cluster.tls_server_name:
            conf.tls_server_name = cluster.tls_server_name
        if cluster.proxy_url:
            conf.proxy = cluster.proxy_url
        if cluster.client_cert and cluster.client_key:
            self._tmpdir = tempfile.mkdtemp(prefix="strongroom-kube-")
            conf.cert_file = _private_file(self._tmpdir, "client.crt", cluster.client_cert)
            conf.key_file = _private_file(self._tmpdir, "client.key", cluster.client_key)
        conf.connection_pool_maxsize = pool_size
        conf.retries = 0
        self._api = k8s_client.ApiClient(conf)
        self._finalizer = weakref.finalize(self, _cleanup, self._api, self._tmpdir)

    def close(self) -> None:
        """Close pooled connections and remove temporary credential files."""
        self._finalizer()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query = (),
        body: Any = None,
        content_type: str = JSON,
        timeout: float | None = None,
    ) -> Any:
        """Send one request and return its decoded JSON body; raise a KubeError otherwise."""
        response = self._send(method, path, query, body, content_type, timeout)
        try:
            data = response.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unreachable(method, self.server, path, exc, sent=True) from exc
        finally:
            response.response.release_conn()
        try:
            return json.loads(data) if data else None
        except ValueError:
            raise errors.ServerError(
                f"{method} {path}: response is not JSON", status=response.status
            ) from None

    def open_lines(
        self, path: str, *, query: Query = (), timeout: float | None = None
    ) -> LineStream:
        """GET ``path`` and return its body as a stream of lines (watch).

        The request is sent here, so errors in starting it are raised here; ``timeout`` is
        the read timeout between chunks, after which the stream simply ends.
        """
        response = self._send("GET", path, query, None, JSON, timeout)
        return LineStream(response.response, self.server, path)

    def _send(
        self,
        method: str,
        path: str,
        query: Query,
        body: Any,
        content_type: str,
        timeout: float | None,
    ) -> Any:
        url = self.server + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        read_timeout = self._timeouts[1] if timeout is None else timeout
        for attempt in (1, 2):
            headers = {"Accept": JSON, "Content-Type": content_type}
            token = self._tokens.token()
            if token:
                headers["Authorization"] = f"Bearer {token}"
            try:
                response = self._api.call_api(
                    method,
                    url,
                    header_params=headers,
                    body=body,
                    _request_timeout=(self._connect_timeout, read_timeout),
                )
            except k8s_exceptions.ApiException as exc:  # how the library reports TLS errors
                detail = errors.trim(str(exc.reason), 160)
                raise errors.TLSError(
                    f"{method} {path}: TLS with {self.server} failed: {detail}"
                ) from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise _unreachable(method, self.server, path, exc, sent=None) from exc
            if response.status < 400:
                return response
            error = _api_error(method, path, response)
            if response.status == 401 and attempt == 1 and token and self._fresh_token(token):
                continue
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def _fresh_token(self, refused: str) -> bool:
        """Drop a refused token; whether the source now gives a different one to try."""
        self._tokens.invalidate()
        return self._tokens.token() != refused


class LineStream:
    """Non-empty lines of a streamed response, as they arrive; :meth:`close` to abandon it."""

    def __init__(self, raw: Any, server: str, path: str) -> None:
        self._raw = raw
        self._server = server
        self._path = path

    def close(self) -> None:
        self._raw.release_conn()
        self._raw.close()

    def __iter__(self) -> Iterator[bytes]:
        pending = b""
        try:
            while True:
                chunk = self._raw.read1(65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                yield from (line for line in lines if line.strip())
            if pending.strip():
                yield pending
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if not isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
                raise _unreachable("GET", self._server, self._path, exc, sent=True) from exc
        finally:
            self.close()


def _private_file(directory: str, name: str, data: bytes) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def _cleanup(api: Any, tmpdir: str | None) -> None:
    api.rest_client.close()
    if tmpdir is not None:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _unreachable(
    method: str, server: str, path: str, exc: BaseException, *, sent: bool | None
) -> errors.ApiUnreachable:
    """Connection refused/reset, timeouts and DNS failures, with whether the request left."""
    reason = getattr(exc, "reason", None) or exc
    if sent is None:
        sent = not isinstance(
            reason,
            urllib3.exceptions.NewConnectionError
            | urllib3.exceptions.ConnectTimeoutError
            | urllib3.exceptions.NameResolutionError
            | ConnectionRefusedError,
        )
    if isinstance(reason, urllib3.exceptions.SSLError | ssl.SSLError):
        detail = errors.trim(str(getattr(reason, "reason", None) or reason), 160)
        tls = errors.TLSError(f"{method} {path}: TLS with {server} failed: {detail}")
        tls.request_sent = False
        return tls
    kind = type(reason).__name__
    error = errors.ApiUnreachable(f"{method} {path}: {server} unreachable ({kind})")
    error.request_sent = sent
    return error


def _api_error(method: str, path: str, response: Any) -> errors.ApiError:
    """An ApiError from an error response, reading only the Status reason and message."""
    try:
        status_body = json.loads(response.read() or b"null")
    except (ValueError, urllib3.exceptions.HTTPError, OSError):
        status_body = None
    finally:
        response.response.release_conn()
    reason, message = "", ""
    if isinstance(status_body, dict) and status_body.get("kind") == "Status":
        reason = str(status_body.get("reason") or "")
        message = errors.trim(str(status_body.get("message") or ""))
    retry_after = _retry_after(response.headers.get("Retry-After"))
    cls = errors.for_status(response.status, reason)
    text = f"{method} {path}: {response.status} {reason or response.reason}"
    if message:
        text += f": {message}"
    return cls(
        text,
        status=response.status,
        reason=reason,
        api_message=message,
        retry_after=retry_after,
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
