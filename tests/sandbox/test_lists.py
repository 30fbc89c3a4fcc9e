"""Lists: selectors, pagination with continue tokens, cluster-wide lists, list versions."""

from __future__ import annotations

import time

import pytest

from strongroom.sandbox import server
from tests.sandbox.api import Api, namespace, secret


@pytest.fixture
def api(sandbox: server.Sandbox) -> Api:
    api = Api(sandbox.url)
    for ns in ("a", "b"):
        api.post("/api/v1/namespaces", namespace(ns))
        for i in range(5):
            tier = "web" if i % 2 == 0 else "db"
            api.post(f"/api/v1/namespaces/{ns}/secrets", secret(f"c{i}", ns, tier=tier, idx=str(i)))
    return api


def names(body: dict) -> list[str]:
    return [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in body["items"]]


def test_list_is_sorted_and_typed(api: Api) -> None:
    code, body = api.get("/api/v1/namespaces/a/secrets")
    assert code == 200 and body["kind"] == "SecretList" and body["apiVersion"] == "v1"
    assert names(body) == [f"a/c{i}" for i in range(5)]
    assert int(body["metadata"]["resourceVersion"]) >= 10
    assert "kind" not in body["items"][0], "built-in list items carry no kind, as on a real server"


def test_cluster_wide_list(api: Api) -> None:
    _, body = api.get("/api/v1/secrets")
    assert names(body) == [f"{ns}/c{i}" for ns in "ab" for i in range(5)]


def test_label_selectors(api: Api) -> None:
    _, body = api.get("/api/v1/secrets", labelSelector="tier=web")
    assert len(body["items"]) == 6
    _, body = api.get("/api/v1/namespaces/a/secrets", labelSelector="idx in (1,3),tier!=web")
    assert names(body) == ["a/c1", "a/c3"]
    _, body = api.get("/api/v1/namespaces/a/secrets", labelSelector="!idx")
    assert body["items"] == []
    code, status = api.get("/api/v1/secrets", labelSelector="tier in (web")
    assert code == 400 and status["reason"] == "BadRequest"


def test_field_selectors(api: Api) -> None:
    _, body = api.get("/api/v1/secrets", fieldSelector="metadata.namespace=b,metadata.name!=c0")
    assert names(body) == ["b/c1", "b/c2", "b/c3", "b/c4"]
    code, status = api.get("/api/v1/secrets", fieldSelector="data.k=v")
    assert code == 400 and "field label not supported" in status["message"]
    tls = {"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {}}
    api.post("/api/v1/namespaces/a/secrets", tls)
    _, body = api.get("/api/v1/secrets", fieldSelector="type=kubernetes.io/tls")
    assert names(body) == ["a/s"]
    _, body = api.get("/api/v1/secrets", fieldSelector="type!=Opaque")
    assert names(body) == ["a/s"]


def test_pod_and_event_field_selectors(api: Api) -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]},
    }
    api.post("/api/v1/namespaces/a/pods", pod)
    _, body = api.get("/api/v1/pods", fieldSelector="spec.nodeName=n1,status.phase=Pending")
    assert names(body) == ["a/p"]
    event = {
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "a"},
        "reason": "Started",
        "type": "Normal",
    }
    api.post("/api/v1/namespaces/a/events", event)
    _, body = api.get(
        "/api/v1/events", fieldSelector="involvedObject.kind=Pod,involvedObject.name=p"
    )
    assert names(body) == ["a/e"]


def test_pagination_with_continue(api: Api) -> None:
    seen: list[str] = []
    token = ""
    pages = 0
    first_rv = None
    while True:
        query = {"limit": "3"}
        if token:
            query["continue"] = token
        code, body = api.get("/api/v1/secrets", **query)
        assert code == 200
        first_rv = first_rv or body["metadata"]["resourceVersion"]
        assert body["metadata"]["resourceVersion"] == first_rv
        seen += names(body)
        pages += 1
        token = body["metadata"].get("continue", "")
        if not token:
            break
        assert body["metadata"]["remainingItemCount"] == 10 - len(seen)
    assert pages == 4
    assert seen == [f"{ns}/c{i}" for ns in "ab" for i in range(5)]


def test_pagination_with_selector(api: Api) -> None:
    _, body = api.get("/api/v1/secrets", limit="2", labelSelector="tier=db")
    assert names(body) == ["a/c1", "a/c3"] and body["metadata"]["continue"]
    assert "remainingItemCount" not in body["metadata"]
    _, rest = api.get(
        "/api/v1/secrets",
        limit="10",
        labelSelector="tier=db",
        **{"continue": body["metadata"]["continue"]},
    )
    assert names(rest) == ["b/c1", "b/c3"] and not rest["metadata"].get("continue")


def test_bad_continue_token_is_400(api: Api) -> None:
    code, status = api.get("/api/v1/secrets", limit="2", **{"continue": "garbage!"})
    assert code == 400 and status["reason"] == "BadRequest"


def test_deletecollection_by_label(api: Api) -> None:
    code, body = api.delete("/api/v1/namespaces/a/secrets", labelSelector="tier=db")
    assert code == 200 and len(body["items"]) == 2
    _, left = api.get("/api/v1/namespaces/a/secrets")
    assert names(left) == ["a/c0", "a/c2", "a/c4"]


def test_large_list_is_fast(sandbox: server.Sandbox) -> None:
    cluster = sandbox.cluster
    for i in range(20000):
        obj = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"cm-{i:05d}",
                "namespace": "default",
                "labels": {"n": str(i % 7)},
            },
            "data": {"key": "value" * 4},
        }
        cluster.create_internal(("", "v1", "configmaps"), obj)
    api = Api(sandbox.url)
    start = time.monotonic()
    code, body = api.get("/api/v1/namespaces/default/configmaps")
    elapsed = time.monotonic() - start
    assert code == 200 and len(body["items"]) == 20001, "with kube-root-ca.crt"
    assert elapsed < 3.0, elapsed
    start = time.monotonic()
    _, body = api.get("/api/v1/configmaps", labelSelector="n=3", limit="500")
    assert len(body["items"]) == 500 and time.monotonic() - start < 2.0


def test_continue_token_expires_after_compaction(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    for i in range(4):
        api.post("/api/v1/namespaces/default/secrets", secret(f"s{i}"))
    _, page = api.get("/api/v1/namespaces/default/secrets", limit="2")
    sandbox.cluster.store._max_history = 1  # the next writes compact the history past the token
    api.post("/api/v1/namespaces/default/secrets", secret("late"))
    api.post("/api/v1/namespaces/default/secrets", secret("later"))
    code, status = api.get(
        "/api/v1/namespaces/default/secrets",
        limit="2",
        **{"continue": page["metadata"]["continue"]},
    )
    assert code == 410 and status["reason"] == "Expired"
