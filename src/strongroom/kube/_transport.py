"""HTTP/1.1 to one API server: keep-alive connections of our own, or the ``kubernetes`` client's
raw layer when the cluster is reached through a proxy.

This is the only module that imports the client library (and urllib3 under it), and the only
place network and library exceptions are translated into :mod:`strongroom.kube.errors`. It
sends one request and returns the raw JSON body; it never deserialises into the library's
model classes, and it does not retry (the client's retry policy does). See
docs/adr/0003-kubernetes-client.md.

**Direct connections** (no proxy) are this module's own: a pool of keep-alive sockets
(``ssl`` for https), each request written with one ``sendall`` (head and body together) and
its answer parsed here (status line, headers, ``Content-Length`` or chunked body). A request
costs about 40 µs of client CPU this way, against about 400 µs through the library
(``ApiClient.call_api``, urllib3's pool and http.client's header parser), and the server reads
one packet instead of two: a restore creating 10k objects spent most of its CPU there.
**Proxied clusters** (``proxy-url``, or ``HTTPS_PROXY`` and the like not exempted by
``NO_PROXY``) go through the library as before, for its HTTP, HTTPS and SOCKS proxies.

Authentication: the ``Authorization`` header comes from a
:class:`~strongroom.kube.credentials.TokenSource` on every request; after a 401 the source is
invalidated and the request sent once more with a fresh token. Client certificates given as
data are written to a private temporary folder (0700, files 0600) only as long as the TLS stack
needs files: direct connections load them into their TLS context at once and remove the folder;
the library, which loads them per connection, keeps it for the life of the transport.
"""

from __future__ import annotations

import io
import json
import os
import select
import shutil
import socket
import ssl
import tempfile
import threading
import typing
import urllib.parse
import urllib.request
import warnings
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import strongroom
from strongroom.kube import config, credentials, errors

Query = Sequence[tuple[str, str]]
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
JSON = "application/json"
USER_AGENT = f"strongroom/{strongroom.__version__}"
#: Longest status, header or chunk-size line read, and most header lines, of an answer.
_MAX_LINE = 65536
_MAX_HEADERS = 256
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: What may stand unescaped in a request target (RFC 3986 pchar, "/" and "?"; "%" keeps
#: escapes): anything else, a space or a line break included, is percent-encoded.
_TARGET_SAFE = "/?:@!$&'()*+,;=~%"


class Response(Protocol):
    """An answer whose head has been read; its body is read once, whole or as a stream."""

    status: int
    reason: str

    def header(self, name: str) -> str | None:
        """A response header (case-insensitive), or None."""

    def read(self) -> bytes:
        """The whole body; the connection is released. Raises ApiUnreachable."""

    def chunks(self) -> Iterator[bytes]:
        """The body as it arrives; ends quietly at a read timeout, then closes."""

    def close(self) -> None:
        """Abandon the answer and its connection."""


class Transport:
    """Sends requests to the API server of one :class:`~strongroom.kube.config.ClusterConfig`.

    Safe to share between threads: the pool keeps up to ``pool_size`` idle connections.
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
        self._read_timeout = read_timeout
        self._wire: _Direct | _Library = (
            _Library(cluster, pool_size, connect_timeout)
            if _proxied(cluster)
            else _Direct(cluster, pool_size, connect_timeout)
        )
        self._finalizer = weakref.finalize(self, self._wire.close)

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
        data = response.read()
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
        return LineStream(self._send("GET", path, query, None, JSON, timeout))

    def _send(
        self,
        method: str,
        path: str,
        query: Query,
        body: Any,
        content_type: str,
        timeout: float | None,
    ) -> Response:
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        read_timeout = self._read_timeout if timeout is None else timeout
        for attempt in (1, 2):
            token = self._tokens.token()
            response = self._wire.send(
                method, path, target, body, content_type, token, read_timeout
            )
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

    def __init__(self, response: Response) -> None:
        self._response = response

    def close(self) -> None:
        self._response.close()

    def __iter__(self) -> Iterator[bytes]:
        pending = b""
        try:
            for chunk in self._response.chunks():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                yield from (line for line in lines if line.strip())
            if pending.strip():
                yield pending
        finally:
            self.close()


def _proxied(cluster: config.ClusterConfig) -> bool:
    """Whether requests go through a proxy: the kubeconfig's ``proxy-url``, else one from the
    environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``) unless ``NO_PROXY`` exempts
    the server, by the library's own rules (as kubectl honours them too)."""
    if cluster.proxy_url:
        return True
    proxies = urllib.request.getproxies()
    if not (proxies.get(urllib.parse.urlsplit(cluster.server).scheme) or proxies.get("all")):
        return False
    from kubernetes.client import rest

    return not rest.should_bypass_proxies(cluster.server, proxies.get("no") or "")


# -- direct connections ---------------------------------------------------------------------


class ProtocolError(ConnectionError):
    """The server's answer is not the HTTP/1.1 it should be (or ended early)."""


class _Connection:
    """One keep-alive socket and its buffered reader; used by one request at a time."""

    __slots__ = ("sock", "reader", "timeout")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = typing.cast(io.BufferedReader, sock.makefile("rb", buffering=65536))
        self.timeout = sock.gettimeout()

    def settimeout(self, seconds: float) -> None:
        if seconds != self.timeout:
            self.sock.settimeout(seconds)
            self.timeout = seconds

    def idle_and_open(self) -> bool:
        """Whether an idle connection may carry a request: nothing arrived since its last
        answer (an end of file included: the server closed it)."""
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return False
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        return not poller.poll(0)

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class _Direct:
    """Keep-alive connections of our own to the server of ``cluster`` (module docstring)."""

    def __init__(
        self, cluster: config.ClusterConfig, pool_size: int, connect_timeout: float
    ) -> None:
        self.server = cluster.server
        url = urllib.parse.urlsplit(cluster.server)
        try:
            port = url.port
        except ValueError:
            port = -1
        if url.scheme not in ("http", "https") or not url.hostname or port == -1:
            raise errors.KubeConfigError(
                f"{cluster.source}: context {cluster.context!r}: server {cluster.server!r} "
                "is not an http(s) URL"
            )
        self._address = (url.hostname, port or (443 if url.scheme == "https" else 80))
        self._prefix = url.path.rstrip("/")
        self._fixed = (
            f"Host: {url.netloc.rpartition('@')[2]}\r\nUser-Agent: {USER_AGENT}\r\n"
            "Accept-Encoding: identity\r\n"  # bodies are read as they come, never decoded
        )
        self._tls = _tls_context(cluster) if url.scheme == "https" else None
        self._server_name = cluster.tls_server_name or url.hostname
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def send(
        self,
        method: str,
        path: str,
        target: str,
        body: Any,
        content_type: str,
        token: str | None,
        read_timeout: float,
    ) -> Response:
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        head = f"{method} {urllib.parse.quote(self._prefix + target, _TARGET_SAFE)} HTTP/1.1\r\n"
        head += f"{self._fixed}Accept: {JSON}\r\n"
        if payload or method in _BODY_METHODS:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n"
        if token:
            if "\r" in token or "\n" in token:
                raise errors.CredentialError("the bearer token holds a line break")
            head += f"Authorization: Bearer {token}\r\n"
        try:
            message = (head + "\r\n").encode("latin-1") + payload
        except UnicodeEncodeError:
            raise errors.CredentialError(
                "the bearer token holds characters an HTTP header cannot carry"
            ) from None
        conn = self._acquire(method, path)
        try:
            conn.settimeout(read_timeout)
            conn.sock.sendall(message)
            status, reason, headers = _read_head(conn.reader)
        except OSError as exc:
            conn.close()
            raise _direct_error(method, self.server, path, exc) from exc
        return _DirectResponse(self, conn, method, path, status, reason, headers)

    def _acquire(self, method: str, path: str) -> _Connection:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if conn.idle_and_open():
                    return conn
                conn.close()
        return self._connect(method, path)

    def release(self, conn: _Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._pool_size:
                self._idle.append(conn)
                return
        conn.close()

    def _connect(self, method: str, path: str) -> _Connection:
        try:
            sock = socket.create_connection(self._address, timeout=self._connect_timeout)
        except OSError as exc:
            raise _direct_error(method, self.server, path, exc, sent=False) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self._server_name)
        except OSError as exc:
            sock.close()
            raise _direct_error(method, self.server, path, exc, sent=False) from exc
        return _Connection(sock)


class _DirectResponse:
    """An answer on a direct connection: released to the pool once its body is read."""

    def __init__(
        self,
        wire: _Direct,
        conn: _Connection,
        method: str,
        path: str,
        status: int,
        reason: str,
        headers: dict[str, str],
    ) -> None:
        self.status, self.reason = status, reason
        self._wire, self._conn, self._headers = wire, conn, headers
        self._method, self._path = method, path
        self._keep = "close" not in headers.get("connection", "").lower()
        encoding = headers.get("transfer-encoding", "").lower()
        self._chunked = "chunked" in encoding
        length = headers.get("content-length")
        self._length: int | None = None
        if method == "HEAD" or status in (204, 304):
            self._length = 0
        elif not self._chunked and length is not None:
            if not length.strip().isdigit():
                conn.close()
                raise _direct_error(method, wire.server, path, ProtocolError("bad length"))
            self._length = int(length)
        if not self._chunked and self._length is None:
            self._keep = False  # the body ends when the server closes the connection

    def header(self, name: str) -> str | None:
        return self._headers.get(name.lower())

    def read(self) -> bytes:
        reader = self._conn.reader
        try:
            if self._chunked:
                data = b"".join(_chunks(reader))
            elif self._length is None:
                data = reader.read()
            else:
                data = reader.read(self._length)
                if len(data) < self._length:
                    raise ProtocolError("the answer ended early")
        except OSError as exc:
            self._conn.close()
            raise _direct_error(self._method, self._wire.server, self._path, exc) from exc
        if self._keep:
            self._wire.release(self._conn)
        else:
            self._conn.close()
        return data

    def chunks(self) -> Iterator[bytes]:
        reader = self._conn.reader
        try:
            if self._chunked:
                yield from _chunks(reader)
            elif self._length is None:
                yield from iter(lambda: reader.read1(65536), b"")
            else:
                left = self._length
                while left > 0:
                    data = reader.read1(min(left, 65536))
                    if not data:
                        raise ProtocolError("the answer ended early")
                    left -= len(data)
                    yield data
        except TimeoutError:
            return
        except OSError as exc:
            raise _direct_error(self._method, self._wire.server, self._path, exc) from exc
        finally:
            self._conn.close()

    def close(self) -> None:
        self._conn.close()


def _read_head(reader: Any) -> tuple[int, str, dict[str, str]]:
    """Status code, reason and headers (names lower-cased) of the next final answer."""
    while True:
        line = reader.readline(_MAX_LINE + 1)
        if not line:
            raise ProtocolError("the server closed the connection without an answer")
        version, _, rest = line.rstrip(b"\r\n").partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise ProtocolError("the answer does not start with an HTTP/1.x status line")
        headers = _read_headers(reader)
        if int(code) >= 200:
            return int(code), reason.decode("latin-1").strip(), headers


def _read_headers(reader: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = reader.readline(_MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return headers
        name, colon, value = line.partition(b":")
        if not line.endswith(b"\n") or not colon:
            raise ProtocolError("malformed or truncated header")
        key = name.strip().lower().decode("latin-1")
        text = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    raise ProtocolError("too many headers")


def _chunks(reader: Any) -> Iterator[bytes]:
    """The data of a chunked body, chunk by chunk; trailers are read and dropped."""
    while True:
        line = reader.readline(_MAX_LINE + 1)
        size_text = line.split(b";", 1)[0].strip()
        if not line.endswith(b"\n") or not size_text or size_text.strip(b"0123456789abcdefABCDEF"):
            raise ProtocolError("malformed chunk size")
        size = int(size_text, 16)
        if size == 0:
            _read_headers(reader)
            return
        data = reader.read(size)
        if len(data) < size or reader.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n"):
            raise ProtocolError("truncated chunk")
        yield data


def _tls_context(cluster: config.ClusterConfig) -> ssl.SSLContext:
    """The client TLS context of ``cluster``: its CA (else the system's), its server name
    checked unless ``insecure-skip-tls-verify``, its client certificate loaded."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    if cluster.insecure_skip_tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif cluster.ca_data:
        try:
            context.load_verify_locations(cadata=cluster.ca_data.decode("ascii", "replace"))
        except ssl.SSLError as exc:
            raise errors.KubeConfigError(
                f"{cluster.source}: context {cluster.context!r}: the certificate authority "
                f"cannot be used: {errors.trim(str(exc), 160)}"
            ) from exc
    else:
        context.load_default_certs()
    if cluster.client_cert and cluster.client_key:
        folder = tempfile.mkdtemp(prefix="strongroom-kube-")
        try:
            context.load_cert_chain(
                _private_file(folder, "client.crt", cluster.client_cert),
                _private_file(folder, "client.key", cluster.client_key),
                password=_no_passphrase,
            )
        except ssl.SSLError as exc:
            raise errors.KubeConfigError(
                f"{cluster.source}: context {cluster.context!r}: the client certificate or "
                f"key cannot be used: {errors.trim(str(exc), 160)}"
            ) from exc
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return context


def _no_passphrase() -> bytes:
    """Asked for an encrypted key: none is given (never a prompt on the terminal)."""
    return b""


def _direct_error(
    method: str, server: str, path: str, exc: OSError, *, sent: bool = True
) -> errors.ApiUnreachable:
    """A refused, reset or timed-out connection (``sent``: whether the request may have
    left), or a failed TLS handshake."""
    if isinstance(exc, ssl.SSLError) and not isinstance(
        exc, ssl.SSLEOFError | ssl.SSLZeroReturnError
    ):
        detail = errors.trim(str(exc), 160)
        tls = errors.TLSError(f"{method} {path}: TLS with {server} failed: {detail}")
        tls.request_sent = False
        return tls
    error = errors.ApiUnreachable(f"{method} {path}: {server} unreachable ({type(exc).__name__})")
    error.request_sent = sent
    return error


# -- through the client library (proxied clusters) --------------------------------------------


class _Library:
    """Requests through the ``kubernetes`` client's raw layer (``ApiClient.call_api``).

    The library is imported here, on first use: importing it costs a command about 0.2 s.
    """

    def __init__(
        self, cluster: config.ClusterConfig, pool_size: int, connect_timeout: float
    ) -> None:
        import urllib3.exceptions
        from kubernetes import client as k8s_client

        if cluster.insecure_skip_tls_verify:
            # asked for explicitly in the kubeconfig; kubectl does not warn per request either
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        self.server = cluster.server
        self._connect_timeout = connect_timeout
        conf = k8s_client.Configuration(host=cluster.server)
        conf.verify_ssl = not cluster.insecure_skip_tls_verify
        if cluster.ca_data:
            conf.ca_cert_data = cluster.ca_data.decode("ascii", errors="replace")
        if cluster.tls_server_name:
            conf.tls_server_name = cluster.tls_server_name
        if cluster.proxy_url:  # else the environment's, which the library reads itself
            conf.proxy = cluster.proxy_url
        self._tmpdir: str | None = None
        if cluster.client_cert and cluster.client_key:
            self._tmpdir = tempfile.mkdtemp(prefix="strongroom-kube-")
            conf.cert_file = _private_file(self._tmpdir, "client.crt", cluster.client_cert)
            conf.key_file = _private_file(self._tmpdir, "client.key", cluster.client_key)
        conf.connection_pool_maxsize = pool_size
        conf.retries = 0
        self._api = k8s_client.ApiClient(conf)

    def close(self) -> None:
        self._api.rest_client.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def send(
        self,
        method: str,
        path: str,
        target: str,
        body: Any,
        content_type: str,
        token: str | None,
        read_timeout: float,
    ) -> Response:
        import urllib3.exceptions
        from kubernetes.client import exceptions as k8s_exceptions

        headers = {"Accept": JSON, "Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self._api.call_api(
                method,
                self.server + target,
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
            raise _library_error(method, self.server, path, exc, sent=None) from exc
        return _LibraryResponse(response, method, self.server, path)


class _LibraryResponse:
    def __init__(self, response: Any, method: str, server: str, path: str) -> None:
        self._response = response
        self._raw = response.response
        self.status: int = response.status
        self.reason: str = str(response.reason or "")
        self._where = (method, server, path)

    def header(self, name: str) -> str | None:
        value = self._response.headers.get(name)
        return None if value is None else str(value)

    def read(self) -> bytes:
        import urllib3.exceptions

        try:
            data: bytes = self._response.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _library_error(*self._where, exc, sent=True) from exc
        finally:
            self._raw.release_conn()
        return data

    def chunks(self) -> Iterator[bytes]:
        import urllib3.exceptions

        try:
            yield from iter(lambda: bytes(self._raw.read1(65536)), b"")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if not isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
                raise _library_error(*self._where, exc, sent=True) from exc
        finally:
            self.close()

    def close(self) -> None:
        self._raw.release_conn()
        self._raw.close()


def _library_error(
    method: str, server: str, path: str, exc: BaseException, *, sent: bool | None
) -> errors.ApiUnreachable:
    """Connection refused/reset, timeouts and DNS failures, with whether the request left."""
    import urllib3.exceptions

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


# -- shared ---------------------------------------------------------------------------------


def _private_file(directory: str, name: str, data: bytes) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def _api_error(method: str, path: str, response: Response) -> errors.ApiError:
    """An ApiError from an error response, reading only the Status reason and message."""
    try:
        status_body = json.loads(response.read() or b"null")
    except (ValueError, errors.KubeError):
        status_body = None
    reason, message = "", ""
    if isinstance(status_body, dict) and status_body.get("kind") == "Status":
        reason = str(status_body.get("reason") or "")
        message = errors.trim(str(status_body.get("message") or ""))
    retry_after = _retry_after(response.header("Retry-After"))
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
