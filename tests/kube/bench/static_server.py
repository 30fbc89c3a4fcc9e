"""A static loopback API server for client benchmarks: N configmaps, served in pages.

Every page is serialised once at start-up, so the server costs almost nothing per request
and a benchmark measures the client. Run: python static_server.py PORT COUNT
"""

from __future__ import annotations

import http.server
import json
import sys
import urllib.parse


def _configmap(i: int) -> dict[str, object]:
    return {
        "metadata": {
            "name": f"cm-{i:06d}",
            "namespace": f"ns-{i % 50:02d}",
            "uid": f"00000000-0000-4000-8000-{i:012d}",
            "resourceVersion": str(1000 + i),
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app": f"app-{i % 20}", "tier": "backend", "index": str(i)},
            "annotations": {"note": "x" * 120},
        },
        "data": {"config.yaml": "key: value\n" * 40, "other": "y" * 200},
    }


def _pages(count: int, limit: int) -> dict[int, bytes]:
    items = [_configmap(i) for i in range(count)]
    out: dict[int, bytes] = {}
    for start in range(0, count, limit):
        end = start + limit
        meta: dict[str, object] = {"resourceVersion": "99999"}
        if end < count:
            meta["continue"] = str(end)
            meta["remainingItemCount"] = count - end
        body = {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": meta}
        body["items"] = [dict(it, kind="ConfigMap", apiVersion="v1") for it in items[start:end]]
        out[start] = json.dumps(body).encode()
    return out


DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
    "/version": {"major": "1", "minor": "33", "gitVersion": "v1.33.0"},
    "/api/v1": {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {
                "name": "configmaps",
                "singularName": "configmap",
                "namespaced": True,
                "kind": "ConfigMap",
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
                "shortNames": ["cm"],
            }
        ],
    },
}


def main() -> None:
    port, count = int(sys.argv[1]), int(sys.argv[2])
    pages = {lim: _pages(count, lim) for lim in (500, count)}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            path = url.path.rstrip("/")
            if path in DISCOVERY:
                body = json.dumps(DISCOVERY[path]).encode()
            elif path == "/api/v1/configmaps":
                limit = int(query.get("limit", [str(count)])[0])
                limit = 500 if limit < count else count
                start = int(query.get("continue", ["0"])[0] or 0)
                body = pages[limit][start]
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
