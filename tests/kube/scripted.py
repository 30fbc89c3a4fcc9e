"""Loopback servers for transport tests: one that answers with scripted raw HTTP, and a
forward proxy (absolute-form requests and CONNECT tunnels) in front of a real server.

:class:`ScriptedServer` reads each request (head and ``Content-Length`` body) and answers with
the next :class:`Answer`: its raw bytes as given, then optionally closes the connection; an
answer of ``None`` bytes closes the connection without answering. Every request is recorded
with the number of the connection it came on, and with how many reads it took to arrive.
"""

from __future__ import annotations

import contextlib
import dataclasses
import select
import socket
import threading
import urllib.parse


@dataclasses.dataclass(frozen=True)
class Answer:
    raw: bytes | None
    close: bool = False


@dataclasses.dataclass(frozen=True)
class Seen:
    connection: int
    head: bytes
    body: bytes
    reads: int


def json_answer(body: bytes, status: str = "200 OK", *extra: str) -> bytes:
    headers = "".join(f"{line}\r\n" for line in extra)
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{headers}\r\n"
    ).encode() + body


def chunked_answer(*chunks: bytes, status: str = "200 OK") -> bytes:
    out = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n".encode()
    out += b"Transfer-Encoding: chunked\r\n\r\n"
    for chunk in chunks:
        out += b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk)
    return out + b"0\r\nTrailer: x\r\n\r\n"


class ScriptedServer:
    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.seen: list[Seen] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._connections = 0
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def connections(self) -> int:
        return self._connections

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._listener.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections += 1
                number = self._connections
            self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        with contextlib.suppress(OSError), conn:
            self._answer(conn, number)

    def _answer(self, conn: socket.socket, number: int) -> None:
        pending = b""
        reads = 0
        while True:
            while b"\r\n\r\n" not in pending:
                data = conn.recv(65536)
                reads += 1
                if not data:
                    return
                pending += data
            head, _, pending = pending.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(pending) < length:
                pending += conn.recv(65536)
                reads += 1
            body, pending = pending[:length], pending[length:]
            with self._lock:
                self.seen.append(Seen(number, head, body, reads))
                answer = self.answers.pop(0)
            reads = 0
            if answer.raw is None:
                return
            conn.sendall(answer.raw)
            if answer.close:
                return


class ForwardProxy:
    """An HTTP proxy: CONNECT tunnels and absolute-form requests; records what it was asked."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> ForwardProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            self._forward(conn)

    def _forward(self, conn: socket.socket) -> None:
        pending = b""
        while b"\r\n\r\n" not in pending:
            data = conn.recv(65536)
            if not data:
                return
            pending += data
        line = pending.split(b"\r\n", 1)[0]
        self.requests.append(line)
        method, target, _ = line.decode().split(" ")
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host, int(port)))
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            pending = pending.partition(b"\r\n\r\n")[2]
        else:
            url = urllib.parse.urlsplit(target)
            upstream = socket.create_connection((url.hostname or "", url.port or 80))
            pending = pending.replace(target.encode(), (url.path or "/").encode(), 1)
        with upstream:
            upstream.sendall(pending)
            _pipe(conn, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    while True:
        readable, _, _ = select.select([a, b], [], [], 10)
        if not readable:
            return
        for src in readable:
            data = src.recv(65536)
            if not data:
                return
            (b if src is a else a).sendall(data)
