"""Namespace defaults (default ServiceAccount, kube-root-ca.crt) and owner-reference GC."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from strongroom.sandbox import server
from tests.sandbox.api import Api, configmap, namespace


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_namespaces_get_default_objects(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    for ns in ("default", "kube-system"):
        assert api.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default")[0] == 200
    api.post("/api/v1/namespaces", namespace("fresh"))
    eventually(lambda: api.get("/api/v1/namespaces/fresh/serviceaccounts/default")[0] == 200)
    eventually(lambda: api.get("/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt")[0] == 200)
    ca = api.get("/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt")[1]["data"]["ca.crt"]
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    code, status = api.post(
        "/api/v1/namespaces/fresh/serviceaccounts", {"metadata": {"name": "default"}}
    )
    assert code == 409 and status["reason"] == "AlreadyExists", "a restore meets the default SA"
    api.delete("/api/v1/namespaces/fresh/serviceaccounts/default")
    eventually(lambda: api.get("/api/v1/namespaces/fresh/serviceaccounts/default")[0] == 200)


def owned(name: str, owner: dict[str, Any]) -> dict[str, Any]:
    body = configmap(name)
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
        }
    ]
    return body


def test_deleting_an_owner_deletes_its_dependents(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    cms = "/api/v1/namespaces/default/configmaps"
    _, owner = api.post(cms, configmap("owner"))
    assert api.post(cms, owned("child", owner))[0] == 201
    time.sleep(0.1)
    assert api.get(f"{cms}/child")[0] == 200, "a dependent of a live owner stays"
    api.delete(f"{cms}/owner")
    eventually(lambda: api.get(f"{cms}/child")[0] == 404)


def test_orphan_propagation_keeps_dependents(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    cms = "/api/v1/namespaces/default/configmaps"
    _, owner = api.post(cms, configmap("owner"))
    api.post(cms, owned("child", owner))
    api.delete(f"{cms}/owner", {"propagationPolicy": "Orphan"})
    time.sleep(0.1)
    code, child = api.get(f"{cms}/child")
    assert code == 200 and "ownerReferences" not in child["metadata"]


def test_objects_with_dangling_owners_are_collected(sandbox: server.Sandbox) -> None:
    """A restored object whose owner came back with a new uid is deleted, as on a real cluster."""
    api = Api(sandbox.url)
    cms = "/api/v1/namespaces/default/configmaps"
    _, owner = api.post(cms, configmap("owner"))
    stale = dict(
        owner, metadata=dict(owner["metadata"], uid="00000000-0000-0000-0000-000000000000")
    )
    assert api.post(cms, owned("restored", stale))[0] == 201
    eventually(lambda: api.get(f"{cms}/restored")[0] == 404)


def test_foreground_deletion_waits_for_dependents(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    cms = "/api/v1/namespaces/default/configmaps"
    _, owner = api.post(cms, configmap("owner"))
    child = owned("child", owner)
    child["metadata"]["finalizers"] = ["example.com/slow"]
    api.post(cms, child)
    code, marked = api.delete(f"{cms}/owner", {"propagationPolicy": "Foreground"})
    assert code == 200 and "foregroundDeletion" in marked["metadata"]["finalizers"]
    eventually(lambda: bool(api.get(f"{cms}/child")[1]["metadata"].get("deletionTimestamp")))
    time.sleep(0.1)
    assert api.get(f"{cms}/owner")[0] == 200, "the owner waits for its dependents"
    api.patch(f"{cms}/child", {"metadata": {"finalizers": None}})
    eventually(lambda: api.get(f"{cms}/owner")[0] == 404)
