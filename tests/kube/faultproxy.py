"""A loopback HTTP proxy that injects failures in front of a real API server.

Requests pass through to ``upstream`` unchanged unless a :class:`Fault` matches them: then the
proxy answers with that status (and Retry-After) or drops the connection without an answer.
Every request seen is recorded, so tests can count attempts.
"""

from __future__ import annotations

import dataclasses
import http.client
import http.server
import json
import threading
import time
import urllib.parse


@dataclasses.dataclass
class Fault:
    method: str
    path_prefix: str
    status: int = 503
    retry_after: str | None = None
    drop: bool = False
    times: int = 1


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.faults: list[Fault] = []
        self.seen: list[tuple[str, str]] = []
        #: Seconds to wait before answering each request (to provoke client timeouts).
        self.delay = 0.0
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                fault = proxy._take(self.command, self.path)
                if proxy.delay:
                    time.sleep(proxy.delay)
                if fault is not None and fault.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault is not None:
                    self._reply_fault(fault)
                    return
                self._forward(body)

            def _reply_fault(self, fault: Fault) -> None:
                status = {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "reason": "TooManyRequests" if fault.status == 429 else "ServiceUnavailable",
                    "message": "injected",
                    "code": fault.status,
                }
                data = json.dumps(status).encode()
                self.send_response(fault.status)
                if fault.retry_after is not None:
                    self.send_header("Retry-After", fault.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _forward(self, body: bytes | None) -> None:
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError:
                    self.close_connection = True
                    return
                finally:
                    conn.close()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            self.seen.append((method, path))
            for fault in self.faults:
                if (
                    fault.times > 0
                    and fault.method == method
                    and path.startswith(fault.path_prefix)
                ):
                    fault.times -= 1
                    return fault
        return None

    def count(self, method: str, path_prefix: str) -> int:
        with self._lock:
            return sum(1 for m, p in self.seen if m == method and p.startswith(path_prefix))

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
