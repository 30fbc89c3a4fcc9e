"""A loopback HTTP proxy in front of a test key service: counts requests, injects failures.

``KmsProxy(upstream_port)`` listens on 127.0.0.1 and forwards every request to the upstream
server unless a canned failure is queued with :meth:`fail_next`; each request, failed or
forwarded, counts once. Used to prove retries (429, throttling, 503) and KMS call counts.
"""

from __future__ import annotations

import dataclasses
import http.client
import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


AWS_THROTTLED = Reply(
    400,
    b'{"__type":"ThrottlingException","message":"Rate exceeded"}',
    (("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "ThrottlingException")),
)
AWS_TOO_MANY = Reply(
    429, b'{"__type":"ThrottlingException"}', (("Content-Type", "application/x-amz-json-1.1"),)
)
UNAVAILABLE = Reply(503, b'{"errors":["unavailable"]}', (("Content-Type", "application/json"),))
VAULT_TOO_MANY = Reply(
    429, b'{"errors":["rate limit quota exceeded"]}', (("Content-Type", "application/json"),)
)


class KmsProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.requests: list[str] = []
        self._failures: list[Reply] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy._handle(self)

            do_POST = do_PUT = do_DELETE = do_GET

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def fail_next(self, *replies: Reply) -> None:
        with self._lock:
            self._failures.extend(replies)

    def _handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        with self._lock:
            self.requests.append(f"{handler.command} {handler.path}")
            reply = self._failures.pop(0) if self._failures else None
        if reply is None:
            reply = self._forward(handler, body)
        handler.send_response(reply.status)
        for name, value in reply.headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body)

    def _forward(self, handler: http.server.BaseHTTPRequestHandler, body: bytes) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=10)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
            conn.request(handler.command, handler.path, body=body, headers=headers)
            response = conn.getresponse()
            kept = tuple((k, v) for k, v in response.getheaders() if k.lower() not in _HOP)
            return Reply(response.status, response.read(), kept)
        finally:
            conn.close()

    def start(self) -> KmsProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def running(upstream_port: int) -> Iterator[KmsProxy]:
    proxy = KmsProxy(upstream_port).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port whose connections are queued but never answered (a hung server)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])
    finally:
        sock.close()
