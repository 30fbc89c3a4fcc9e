"""The HTTP side: authentication, body decoding, dispatch by route and method, responses.

Responses are JSON with a Content-Length, over HTTP/1.1 keep-alive connections; watch streams
use chunked transfer encoding, one JSON event per line.
"""

from __future__ import annotations

import hmac
import http.server
import json
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any, Protocol

import yaml

from strongroom.sandbox import (
    cluster,
    deletes,
    discovery,
    openapi,
    patches,
    protobuf,
    reads,
    reviews,
    routing,
    status,
    tables,
    watch,
    writes,
)

_log = logging.getLogger(__name__)
_MAX_BODY = 64 * 1024 * 1024


class ServerState(Protocol):
    """What the handler needs from the server object it runs in."""

    cluster: cluster.Cluster
    token: str | None
    address_text: str


class Handler(http.server.BaseHTTPRequestHandler):
    """One connection; each request is answered like a Kubernetes API server would."""

    protocol_version = "HTTP/1.1"
    #: Headers and body go out in separate writes: without TCP_NODELAY every keep-alive
    #: response waits out the client's delayed ACK (about 40 ms on Linux).
    disable_nagle_algorithm = True
    server_version = "strongroom-sandbox"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        _log.debug("%s " + format, self.client_address[0], *args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    @property
    def _state(self) -> ServerState:
        state: ServerState = self.server  # type: ignore[assignment]
        return state

    def _dispatch(self, method: str) -> None:
        try:
            raw = self._read_body()
            self._authenticate()
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            route = routing.parse(url.path, self._state.cluster.catalog.lookup)
            if isinstance(route, routing.Discovery):
                if method != "GET":
                    raise status.ApiError(
                        405,
                        "MethodNotAllowed",
                        "the server does not allow this method on the requested resource",
                    )
                if route.kind in ("api", "apis") and discovery.wants_aggregated(
                    self.headers.get("Accept", "")
                ):
                    body = discovery.aggregated(self._state.cluster.catalog, route.kind == "api")
                    self._send(200, body, content_type=discovery.AGGREGATED)
                    return
                self._send(200, self._discovery(route))
                return
            call = cluster.Call(
                route,
                query,
                self._decode(raw),
                self._content_type(),
                self.headers.get("User-Agent", ""),
            )
            self._resource(method, call)
        except status.ApiError as exc:
            self._send(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            _log.exception("sandbox request failed: %s %s", method, self.path.split("?")[0])
            self._send(
                500,
                status.ApiError(
                    500, "InternalError", "an internal error occurred in the sandbox API server"
                ).status(),
            )

    def _authenticate(self) -> None:
        token = self._state.token
        if token is None:
            return
        given = self.headers.get("Authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise status.unauthorized()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True
            raise status.ApiError(413, "RequestEntityTooLarge", "the request is too large")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _content_type(self) -> str:
        return self.headers.get("Content-Type", "application/json")

    def _decode(self, raw: bytes) -> Any:
        if not raw.strip():
            return None
        kind = self._content_type().split(";")[0].strip().lower()
        if kind == protobuf.CONTENT_TYPE:
            return protobuf.decode(raw)
        try:
            if "yaml" in kind:
                return yaml.safe_load(raw)
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise status.bad_request(f"the request body could not be decoded: {kind}") from exc

    def _discovery(self, route: routing.Discovery) -> Any:
        cat = self._state.cluster.catalog
        kind = route.kind
        if kind == "version":
            return discovery.VERSION
        if kind in ("healthz", "livez", "readyz"):
            return "ok"
        if kind == "root":
            return discovery.root_paths(cat)
        if kind == "api":
            return discovery.api_versions(self._state.address_text)
        if kind == "apis":
            return discovery.group_list(cat)
        if kind == "group":
            return discovery.group(cat, route.group)
        if kind == "openapi":
            return openapi.document(cat, route.rest)
        return discovery.resource_list(cat, route.group, route.version)

    def _resource(self, method: str, call: cluster.Call) -> None:
        c = self._state.cluster
        route = call.route
        if method == "GET":
            if route.legacy_watch or call.query.get("watch", "") in ("1", "true"):
                convert = None
                if tables.wants_table(self.headers.get("Accept", "")):
                    convert = tables.event_converter(
                        c, call.rtype, call.query.get("includeObject", "")
                    )
                self._stream(watch.Watch(c, call), convert)
                return
            result = reads.get(c, call) if route.name else reads.list_objects(c, call)
            if route.subresource is None and tables.wants_table(self.headers.get("Accept", "")):
                include = call.query.get("includeObject", "")
                result = (result[0], tables.answer(c, call.rtype, result[1], include))
        elif method == "POST" and reviews.is_review(call):
            result = reviews.answer(call, self._state.token)
        elif method == "POST":
            result = writes.create(c, call)
        elif method == "PUT":
            result = writes.update(c, call)
        elif method == "PATCH":
            result = patches.patch(c, call)
        else:
            result = deletes.delete(c, call)
        self._send(*result, warnings=call.warnings)

    def _send(
        self,
        code: int,
        body: Any,
        warnings: list[str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        if isinstance(body, str):
            data = body.encode()
            kind = "text/plain; charset=utf-8"
        else:
            data = json.dumps(body, separators=(",", ":")).encode()
            kind = content_type
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for warning in warnings or ():
            text = warning.replace('"', "'").encode("ascii", "backslashreplace").decode()
            self.send_header("Warning", f'299 - "{text}"')
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, stream: watch.Watch, convert: Callable[[bytes], bytes] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

        def write(data: bytes) -> None:
            if convert is not None:
                data = convert(data)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        try:
            stream.stream(write)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ValueError, OSError):
            self.close_connection = True
