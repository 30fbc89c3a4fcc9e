"""Decoding list and watch responses into :mod:`strongroom.kube.bodies` values."""

from __future__ import annotations

import json
from typing import Any

from strongroom.kube import bodies, discovery, errors


def list_page(res: discovery.APIResource, namespace: str | None, body: Any) -> bodies.ListPage:
    """A :class:`~strongroom.kube.bodies.ListPage` from a decoded list response.

    Items get ``kind`` and ``apiVersion`` when the server left them out (it does for
    built-in kinds); the items are the decoded dicts themselves, not copies.
    """
    items: list[bodies.KubeObject] = (body.get("items") or []) if isinstance(body, dict) else []
    meta = (body.get("metadata") or {}) if isinstance(body, dict) else {}
    if (
        not isinstance(body, dict)
        or not isinstance(items, list)
        or not isinstance(meta, dict)
        or not all(isinstance(item, dict) for item in items)
    ):
        raise errors.ServerError(f"list {res.group_resource}: not a list body", status=200)
    for item in items:
        if "kind" not in item:
            item["kind"] = res.kind
        if "apiVersion" not in item:
            item["apiVersion"] = res.api_version
    remaining = meta.get("remainingItemCount")
    return bodies.ListPage(
        resource=res.group_resource,
        namespace=namespace,
        items=items,
        resource_version=bodies.ResourceVersion(str(meta.get("resourceVersion") or "")),
        continue_token=str(meta.get("continue") or ""),
        remaining=remaining if isinstance(remaining, int) else None,
    )


def watch_event(path: str, line: bytes) -> bodies.WatchEvent:
    """One watch event from one line of a watch stream; ERROR events raise their ApiError."""
    try:
        doc = json.loads(line)
        kind, obj = doc["type"], doc["object"]
    except (ValueError, KeyError, TypeError):
        raise errors.ServerError(f"watch {path}: malformed event", status=200) from None
    if kind == "ERROR":
        status = obj if isinstance(obj, dict) else {}
        code = int(status.get("code") or 500)
        reason = str(status.get("reason") or "")
        message = errors.trim(str(status.get("message") or ""))
        raise errors.for_status(code, reason)(
            f"watch {path}: {code} {reason}: {message}",
            status=code,
            reason=reason,
            api_message=message,
        )
    return bodies.WatchEvent(type=kind, object=obj)
