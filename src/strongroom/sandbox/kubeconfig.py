"""Kubeconfig files pointing at a sandbox."""

from __future__ import annotations

import base64
import os
import pathlib
from typing import Any

import yaml


def document(
    server: str, token: str | None, context: str = "sandbox", ca_pem: bytes | None = None
) -> dict[str, Any]:
    """A kubeconfig with one cluster, one user and one context, set as current."""
    user: dict[str, Any] = {"token": token} if token is not None else {}
    cluster: dict[str, Any] = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": context, "user": user}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": context, "namespace": "default"},
            }
        ],
        "current-context": context,
    }


def write(
    path: pathlib.Path,
    server: str,
    token: str | None,
    context: str = "sandbox",
    ca_pem: bytes | None = None,
) -> None:
    """Write the kubeconfig to ``path`` (mode 0600: it may hold the token)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(document(server, token, context, ca_pem), sort_keys=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
