"""Namespaces: the defaults, required existence, termination and cleanup of contents."""

from __future__ import annotations

import time
from collections.abc import Callable

from strongroom.sandbox import server
from tests.sandbox.api import Api, configmap, namespace


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_default_namespaces_exist(sandbox: server.Sandbox) -> None:
    code, body = Api(sandbox.url).get("/api/v1/namespaces")
    names = {i["metadata"]["name"] for i in body["items"]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    default = next(i for i in body["items"] if i["metadata"]["name"] == "default")
    assert default["status"]["phase"] == "Active"
    assert default["spec"]["finalizers"] == ["kubernetes"]
    assert default["metadata"]["labels"]["kubernetes.io/metadata.name"] == "default"


def test_namespaced_create_needs_the_namespace(sandbox: server.Sandbox) -> None:
    code, status = Api(sandbox.url).post(
        "/api/v1/namespaces/ghost/configmaps", configmap("a", "ghost")
    )
    assert code == 404 and status["reason"] == "NotFound"
    assert status["details"] == {"name": "ghost", "kind": "namespaces"}


def test_deleting_a_namespace_terminates_then_removes_it(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post("/api/v1/namespaces", namespace("shop"))
    for i in range(3):
        api.post("/api/v1/namespaces/shop/configmaps", configmap(f"c{i}", "shop"))
    held = configmap("held", "shop")
    held["metadata"]["finalizers"] = ["example.com/keep"]
    api.post("/api/v1/namespaces/shop/configmaps", held)
    code, ns = api.delete("/api/v1/namespaces/shop")
    assert code == 200 and ns["metadata"]["deletionTimestamp"]
    assert ns["status"]["phase"] == "Terminating"
    code, status = api.post("/api/v1/namespaces/shop/configmaps", configmap("late", "shop"))
    assert code == 403 and status["reason"] == "Forbidden"
    assert "because it is being terminated" in status["message"]
    eventually(lambda: len(api.get("/api/v1/namespaces/shop/configmaps")[1]["items"]) == 1)
    time.sleep(0.1)
    assert api.get("/api/v1/namespaces/shop")[0] == 200, "a finalizer holds the namespace"
    api.patch("/api/v1/namespaces/shop/configmaps/held", {"metadata": {"finalizers": None}})
    eventually(lambda: api.get("/api/v1/namespaces/shop")[0] == 404)


def test_namespace_finalizer_cannot_be_dropped_by_update(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    _, ns = api.post("/api/v1/namespaces", namespace("x"))
    ns["spec"] = {"finalizers": []}
    code, updated = api.put("/api/v1/namespaces/x", ns)
    assert code == 200 and updated["spec"]["finalizers"] == ["kubernetes"]


def test_namespace_status_subresource(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post("/api/v1/namespaces", namespace("x"))
    code, ns = api.get("/api/v1/namespaces/x/status")
    assert code == 200 and ns["metadata"]["name"] == "x"


def test_finalize_subresource_releases_a_stuck_namespace(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    body = namespace("stuck")
    body["spec"] = {"finalizers": ["kubernetes", "example.com/never"]}
    api.post("/api/v1/namespaces", body)
    _, ns = api.get("/api/v1/namespaces/stuck")
    assert ns["spec"]["finalizers"] == ["kubernetes"], "create sets the namespace finalizers"
    cm = configmap("held", "stuck")
    cm["metadata"]["finalizers"] = ["example.com/keep"]
    api.post("/api/v1/namespaces/stuck/configmaps", cm)
    api.delete("/api/v1/namespaces/stuck")
    time.sleep(0.1)
    assert api.get("/api/v1/namespaces/stuck")[1]["status"]["phase"] == "Terminating"
    _, ns = api.get("/api/v1/namespaces/stuck")
    ns["spec"]["finalizers"] = []
    code, _ = api.put("/api/v1/namespaces/stuck/finalize", ns)
    assert code == 200
    eventually(lambda: api.get("/api/v1/namespaces/stuck")[0] == 404)
