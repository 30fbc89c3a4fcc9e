"""OpenAPI v3 documents, as much of them as kubectl needs.

kubectl reads ``/openapi/v3`` to learn, per group/version, whether the PATCH operation of a
kind takes the ``fieldValidation`` parameter. When it does, kubectl leaves validation to the
server (``fieldValidation=Strict``) instead of downloading schemas to validate on the client.
The documents therefore list every resource's operations with their parameters and an open
schema per kind; they carry no field-level schemas (``kubectl explain`` shows nothing useful).
The request bodies of PATCH do not list strategic merge patch, so kubectl computes strategic
patches from its compiled-in types instead of from these schemas. ``/openapi/v2`` is not
served (404), which kubectl tolerates.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from strongroom.sandbox import catalog, status

Obj = dict[str, Any]

_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
_PATCH_BODIES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def document(cat: catalog.Catalog, rest: str) -> Obj:
    """The document at ``/openapi/<rest>`` (404 for v2 and unknown group/versions)."""
    if rest == "v3":
        return _root(cat)
    prefix = "v3/"
    if not rest.startswith(prefix):
        raise status.page_not_found()
    wanted = rest[len(prefix) :]
    for group, versions in cat.group_versions():
        for version in versions:
            if _gv_path(group, version) == wanted:
                return _group_version(cat.resources(group, version), group, version)
    raise status.page_not_found()


def _root(cat: catalog.Catalog) -> Obj:
    paths: Obj = {}
    for group, versions in cat.group_versions():
        for version in versions:
            path = _gv_path(group, version)
            names = sorted(
                f"{t.plural}:{t.kind}:{t.namespaced}:{sorted(t.subresources)}"
                for t in cat.resources(group, version)
            )
            digest = hashlib.sha256(json.dumps(names).encode()).hexdigest()[:32].upper()
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def _param(name: str) -> Obj:
    return {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}


def _gvk(rtype: catalog.ResourceType) -> Obj:
    return {"group": rtype.group, "version": rtype.version, "kind": rtype.kind}


def _ref(rtype: catalog.ResourceType) -> Obj:
    return {"$ref": f"#/components/schemas/{_schema_name(rtype)}"}


def _schema_name(rtype: catalog.ResourceType) -> str:
    group = ".".join(reversed(rtype.group.split("."))) if rtype.group else "core"
    return f"{group}.{rtype.version}.{rtype.kind}"


def _operation(rtype: catalog.ResourceType, action: str, params: tuple[str, ...]) -> Obj:
    op: Obj = {
        "operationId": f"{action}{rtype.kind}",
        "parameters": [_param(p) for p in params],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": _ref(rtype)}}}
        },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(rtype),
    }
    if action == "patch":
        op["requestBody"] = {"content": {t: {"schema": {"type": "object"}} for t in _PATCH_BODIES}}
    elif action in ("post", "put"):
        op["requestBody"] = {"content": {"application/json": {"schema": _ref(rtype)}}}
    return op


def _paths_of(rtype: catalog.ResourceType) -> dict[str, Obj]:
    base = f"/{_gv_path(rtype.group, rtype.version)}"
    scope = f"{base}/namespaces/{{namespace}}" if rtype.namespaced else base
    collection = f"{scope}/{rtype.plural}"
    item = f"{collection}/{{name}}"
    paths: dict[str, Obj] = {
        collection: {
            "get": _operation(
                rtype, "list", ("labelSelector", "fieldSelector", "limit", "continue", "watch")
            ),
            "post": _operation(rtype, "post", _WRITE_PARAMS),
        },
        item: {
            "get": _operation(rtype, "get", ()),
            "put": _operation(rtype, "put", _WRITE_PARAMS),
            "patch": _operation(rtype, "patch", (*_WRITE_PARAMS, "force")),
            "delete": _operation(rtype, "delete", ("dryRun", "propagationPolicy")),
        },
    }
    for sub in sorted(rtype.subresources):
        paths[f"{item}/{sub}"] = {
            "get": _operation(rtype, "get", ()),
            "put": _operation(rtype, "put", _WRITE_PARAMS),
            "patch": _operation(rtype, "patch", (*_WRITE_PARAMS, "force")),
        }
    return paths


def _group_version(types: list[catalog.ResourceType], group: str, version: str) -> Obj:
    paths: Obj = {}
    schemas: Obj = {}
    for rtype in types:
        paths.update(_paths_of(rtype))
        schemas[_schema_name(rtype)] = {
            "type": "object",
            "x-kubernetes-group-version-kind": [_gvk(rtype)],
            "x-kubernetes-preserve-unknown-fields": True,
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.5+k3s1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
