"""A tiny raw HTTP client for sandbox tests: codes and JSON bodies as the server sent them."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class Api:
    def __init__(self, url: str, token: str | None = None, ca: bytes | None = None) -> None:
        self.url = url
        self.token = token
        self.context = ssl.create_default_context(cadata=ca.decode()) if ca else None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        query: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.context) as resp:
                return resp.status, _decode(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _decode(exc.read())

    def get(self, path: str, **query: str) -> tuple[int, Any]:
        return self.request("GET", path, query=query or None)

    def post(self, path: str, body: Any, **query: str) -> tuple[int, Any]:
        return self.request("POST", path, body, query=query or None)

    def put(self, path: str, body: Any, **query: str) -> tuple[int, Any]:
        return self.request("PUT", path, body, query=query or None)

    def patch(self, path: str, body: Any, kind: str = "merge", **query: str) -> tuple[int, Any]:
        types = {
            "merge": "application/merge-patch+json",
            "json": "application/json-patch+json",
            "strategic": "application/strategic-merge-patch+json",
            "apply": "application/apply-patch+yaml",
        }
        return self.request("PATCH", path, body, content_type=types[kind], query=query or None)

    def delete(self, path: str, body: Any = None, **query: str) -> tuple[int, Any]:
        return self.request("DELETE", path, body, query=query or None)


def _decode(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


def configmap(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "v"}}


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def secret(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": {"k": "dg=="}}
