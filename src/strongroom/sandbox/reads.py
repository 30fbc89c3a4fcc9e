"""Get and list: selectors, pagination with continue tokens, list resourceVersion.

Lists never copy stored objects: the store hands out references (objects are immutable once
stored) and only the items on the page get a shallow copy to set or drop kind/apiVersion.
Built-in list items carry no kind/apiVersion, as from a real server; custom ones do.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from typing import Any

from strongroom.sandbox import catalog, cluster, objects, scale, selectors, status, store

Obj = dict[str, Any]
Call = cluster.Call

#: Field selector keys a real server supports beyond metadata.name/namespace, by resource.
_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "pods"): (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    ("", "events"): (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    ("", "secrets"): ("type",),
    ("", "namespaces"): ("status.phase",),
    ("", "nodes"): ("spec.unschedulable",),
    ("", "replicationcontrollers"): ("status.replicas",),
    ("", "persistentvolumes"): ("spec.storageClassName",),
    ("apps", "replicasets"): ("status.replicas",),
    ("batch", "jobs"): ("status.successful",),
    ("certificates.k8s.io", "certificatesigningrequests"): ("spec.signerName",),
}


_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter."
)


def allowed_fields(rtype: catalog.ResourceType) -> tuple[str, ...]:
    return ("metadata.name", "metadata.namespace", *_FIELDS.get(rtype.group_resource, ()))


def get(c: cluster.Cluster, call: Call) -> tuple[int, Obj]:
    call.require("get")
    rtype = call.rtype
    assert call.route.name is not None
    obj = c.store.get(rtype.group_resource, call.route.namespace or "", call.route.name)
    if obj is None:
        raise status.not_found(rtype.group, rtype.plural, call.route.name)
    if call.route.subresource == "scale":
        return 200, scale.to_scale(obj)
    return 200, objects.with_type(obj, rtype)


class Filter:
    """The label and field selectors of a request, parsed (400 on bad syntax)."""

    def __init__(self, rtype: catalog.ResourceType, query: dict[str, str] | Any) -> None:
        self.labels: selectors.LabelSelector | None = None
        self.fields: selectors.FieldSelector | None = None
        try:
            if query.get("labelSelector"):
                self.labels = selectors.parse_label_selector(query["labelSelector"])
            if query.get("fieldSelector"):
                self.fields = selectors.parse_field_selector(
                    query["fieldSelector"], allowed_fields(rtype)
                )
        except selectors.SelectorError as exc:
            raise status.bad_request(str(exc)) from exc

    @property
    def empty(self) -> bool:
        return self.labels is None and self.fields is None

    def matches(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        if self.labels is not None and not self.labels.matches(
            objects.dig(obj, "metadata", "labels") or {}
        ):
            return False
        return self.fields is None or self.fields.matches(obj)


def matching(c: cluster.Cluster, call: Call) -> list[Obj]:
    """Every object of the route's collection that the selectors match."""
    chosen = Filter(call.rtype, call.query)
    _, items = c.store.items(call.rtype.group_resource, call.route.namespace)
    return [o for o in items if chosen.matches(o)]


def _encode_continue(rv: int, key: tuple[str, str]) -> str:
    raw = json.dumps({"v": 1, "rv": rv, "start": list(key)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        return int(data["rv"]), (str(data["start"][0]), str(data["start"][1]))
    except (binascii.Error, ValueError, KeyError, TypeError, IndexError) as exc:
        raise status.bad_request(f"continue key is not valid: {token[:40]}") from exc


def _limit(query: Any) -> int:
    text = query.get("limit") or "0"
    try:
        value = int(text)
    except ValueError as exc:
        raise status.bad_request(f"limit: invalid value {text!r}") from exc
    return max(value, 0)


def list_objects(c: cluster.Cluster, call: Call) -> tuple[int, Obj]:
    """GET on a collection: a page of matching objects and, if more remain, a continue token."""
    call.require("list")
    rtype = call.rtype
    chosen = Filter(rtype, call.query)
    limit = _limit(call.query)
    rv, items = c.store.items(rtype.group_resource, call.route.namespace)
    start = 0
    if call.query.get("continue"):
        rv, after = _decode_continue(call.query["continue"])
        if rv < c.store.oldest_rv:
            raise status.gone(_EXPIRED)
        start = bisect.bisect_right(items, after, key=store.key_of)
    page: list[Obj] = []
    index = start
    total = len(items)
    while index < total and (limit == 0 or len(page) < limit):
        obj = items[index]
        index += 1
        if chosen.empty or chosen.matches(obj):
            page.append(obj)
    meta: Obj = {}
    if limit and index < total:
        meta["continue"] = _encode_continue(rv, store.key_of(items[index - 1]))
        if chosen.empty:
            meta["remainingItemCount"] = total - index
    return 200, list_body(rtype, rv, page, meta)


def list_body(rtype: catalog.ResourceType, rv: int, items: list[Obj], meta: Obj) -> Obj:
    if rtype.custom:
        shown = [objects.with_type(o, rtype) for o in items]
    else:
        shown = [{k: v for k, v in o.items() if k != "kind" and k != "apiVersion"} for o in items]
    return {
        "kind": f"{rtype.kind}List",
        "apiVersion": rtype.group_version,
        "metadata": {"resourceVersion": str(rv), **meta},
        "items": shown,
    }
