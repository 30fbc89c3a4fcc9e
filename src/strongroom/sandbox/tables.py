"""Server-side printing: ``meta.k8s.io/v1`` Table answers for ``kubectl get``.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the
columns the server chooses (:mod:`strongroom.sandbox.printers`), for lists, single objects
and watch events alike. Rows carry the object's metadata (``includeObject=Metadata``, the
default), the whole object (``Object``) or nothing (``None``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from strongroom.sandbox import catalog, cluster, printers

Obj = dict[str, Any]


def wants_table(accept: str) -> bool:
    """Whether an Accept header asks for a ``meta.k8s.io/v1`` Table."""
    return any(
        "as=Table" in part and "g=meta.k8s.io" in part and "v=v1beta1" not in part
        for part in accept.split(",")
    )


def _row(obj: Obj, columns: tuple[printers.Column, ...], include: str) -> Obj:
    row: Obj = {"cells": [column.cell(obj) for column in (printers.NAME, *columns)]}
    if include == "Object":
        row["object"] = obj
    elif include != "None":
        row["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {}),
        }
    return row


def to_table(body: Obj, columns: tuple[printers.Column, ...], include: str = "Metadata") -> Obj:
    """A Table of one object or of a list's items (keeping the list's resourceVersion and
    continue token)."""
    is_list = isinstance(body.get("items"), list)
    items = body["items"] if is_list else [body]
    meta = body.get("metadata", {}) if is_list else {}
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {
            k: v
            for k, v in meta.items()
            if k in ("resourceVersion", "continue", "remainingItemCount")
        },  # fmt: skip
        "columnDefinitions": [column.definition() for column in (printers.NAME, *columns)],
        "rows": [_row(item, columns, include) for item in items],
    }


def answer(c: cluster.Cluster, rtype: catalog.ResourceType, body: Obj, include: str) -> Obj:
    """The Table answer for a GET of ``rtype`` whose JSON answer is ``body``."""
    if rtype.custom:
        crd = c.store.get(cluster.CRD_RESOURCE, "", f"{rtype.plural}.{rtype.group}")
        columns = printers.crd_columns(crd, rtype.version)
    else:
        columns = printers.columns_for(rtype.group_resource)
    return to_table(body, columns, include or "Metadata")


def event_converter(
    c: cluster.Cluster, rtype: catalog.ResourceType, include: str
) -> Callable[[bytes], bytes]:
    """Turn watch event lines into events whose object is a one-row Table (errors and
    bookmarks pass through)."""

    def convert(line: bytes) -> bytes:
        event = json.loads(line)
        if event.get("type") not in ("ADDED", "MODIFIED", "DELETED"):
            return line
        event["object"] = answer(c, rtype, event["object"], include)
        return json.dumps(event, separators=(",", ":")).encode() + b"\n"

    return convert
