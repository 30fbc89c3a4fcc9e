"""The sandbox: an emulated Kubernetes API server on a loopback port.

Usage::

    with Sandbox() as sandbox:
        sandbox.write_kubeconfig(path)
        ...  # kubectl --kubeconfig path get ns

``start()`` serves from background threads and returns once listening; ``serve_forever()``
blocks (for the CLI). Only loopback addresses are accepted as hosts.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import pathlib
import socket
import socketserver
import ssl
import tempfile
import threading
import types
from collections.abc import Callable
from typing import Any

from strongroom import errors
from strongroom.sandbox import (
    cluster,
    handler,
    kubeconfig,
    lifecycle,
    manager,
    nodes,
    persistence,
)
from strongroom.sandbox import tls as tls_module

_log = logging.getLogger(__name__)


class SandboxError(errors.UsageError):
    """A sandbox that cannot be set up as asked (a non-loopback host, a used port)."""


def _require_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise SandboxError(f"the sandbox serves on loopback addresses only, not {host!r}")


class _HTTPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A threading HTTP server that remembers its connections so stop() can close them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], c: cluster.Cluster, token: str | None) -> None:
        self.cluster = c
        self.token = token
        self.address_text = ""
        self.ssl_context: ssl.SSLContext | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler.Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.ssl_context is not None:
            # The handshake happens on first use, in the connection's own thread.
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        _log.debug("sandbox connection from %s failed", client_address, exc_info=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            open_now = list(self._connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class Sandbox:
    """An emulated Kubernetes API server (see docs/sandbox.md for what it does)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        state_dir: pathlib.Path | None = None,
        *,
        tls: bool | None = None,
        layout: nodes.Layout | None = None,
    ) -> None:
        """``tls``: serve HTTPS with a self-signed certificate; by default only when a token
        is set (kubectl sends tokens over TLS only). ``layout``: the nodes (default two).

        Volume data and the nodes' kubelet folders live under the state folder, or without
        one in a private temporary folder removed by :meth:`stop`."""
        _require_loopback(host)
        self._host = host
        self._requested_port = port
        self._token = token
        self._state_dir = pathlib.Path(state_dir) if state_dir is not None else None
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._worker: lifecycle.Worker | None = None
        self._manager: manager.Manager | None = None
        self._layout = layout or nodes.Layout()
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._persister: persistence.Persister | None = None
        self._port: int | None = None
        use_tls = token is not None if tls is None else tls
        self._identity = tls_module.self_signed() if use_tls else None
        authority = self._identity or tls_module.self_signed("strongroom-sandbox-ca")
        self._cluster = cluster.Cluster(ca_pem=authority.certificate_pem.decode())

    @property
    def port(self) -> int:
        """The port served on (still known after :meth:`stop`)."""
        if self._port is None:
            raise SandboxError("the sandbox is not started")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        scheme = "https" if self._identity is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def ca_certificate(self) -> bytes | None:
        """The PEM certificate clients must trust when serving HTTPS, else None."""
        return self._identity.certificate_pem if self._identity is not None else None

    @property
    def cluster(self) -> cluster.Cluster:
        """The cluster state (for tests and the demo that seed objects directly)."""
        return self._cluster

    @property
    def files(self) -> pathlib.Path:
        """The folder of volume data (``storage/``) and node folders (``nodes/``)."""
        if self._state_dir is not None:
            return self._state_dir
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="strongroom-sandbox-")
        return pathlib.Path(self._scratch.name)

    def kubelet_root(self, node_name: str) -> pathlib.Path:
        """Node ``node_name``'s kubelet folder (``/var/lib/kubelet`` on a real node)."""
        return self.files / "nodes" / node_name / "kubelet"

    @property
    def node_names(self) -> list[str]:
        return self._layout.names()

    def _open(self) -> None:
        if self._server is not None:
            raise SandboxError("the sandbox is already started")
        loaded = False
        if self._state_dir is not None:
            self._persister = persistence.Persister(self._cluster, self._state_dir)
            loaded = self._persister.load()
        if not loaded:
            self._cluster.seed(self._layout)
        else:
            self._cluster.add_nodes(self._layout)
        lifecycle.sweep(self._cluster)
        self._manager = manager.Manager(self._cluster, self.files)
        try:
            self._server = _HTTPServer(
                (self._host, self._requested_port), self._cluster, self._token
            )
        except OSError as exc:
            raise SandboxError(
                f"cannot listen on {self._host}:{self._requested_port}: {exc.strerror}"
            ) from exc
        if self._identity is not None:
            self._server.ssl_context = tls_module.server_context(self._identity)
        self._port = int(self._server.server_address[1])
        self._server.address_text = f"{self._host}:{self._port}"
        if self._persister is not None:
            self._persister.start()
        self._worker = lifecycle.Worker(self._cluster)
        self._worker.start()
        self._manager.start()

    def start(self) -> Sandbox:
        """Serve from a background thread; returns once the port accepts connections."""
        self._open()
        assert self._server is not None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sandbox-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in this thread until :meth:`stop` is called from another thread.

        ``on_ready`` runs once the port is bound (the URL is known), before serving.
        """
        self._open()
        assert self._server is not None
        try:
            if on_ready is not None:
                on_ready()
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._teardown()

    def stop(self) -> None:
        """Stop serving, end open watches and connections, and save the state if persistent."""
        server = self._server
        if server is None:
            return
        server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._teardown()

    def _teardown(self) -> None:
        server = self._server
        if server is None:
            return
        self._server = None
        self._cluster.store.close()
        server.close_connections()
        server.server_close()
        if self._worker is not None:
            self._worker.stop()
        if self._manager is not None:
            self._manager.stop()
        if self._persister is not None:
            self._persister.stop()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def write_kubeconfig(self, path: pathlib.Path, context: str = "sandbox") -> pathlib.Path:
        """Write a kubeconfig for this sandbox (server, token if any, current context)."""
        kubeconfig.write(pathlib.Path(path), self.url, self._token, context, self.ca_certificate)
        return pathlib.Path(path)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.stop()
