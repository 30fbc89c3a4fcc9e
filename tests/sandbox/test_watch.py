"""Watch: resourceVersion, selectors, bookmarks, timeouts, expiry, the Python client."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from typing import Any

import kubernetes
import pytest

from strongroom.sandbox import server, store
from tests.sandbox.api import Api
from tests.sandbox.api import secret as configmap

CMS = "/api/v1/namespaces/default/secrets"


def watch(sandbox: server.Sandbox, path: str, **query: str) -> list[dict[str, Any]]:
    """Every event of a watch until the server ends it (``timeoutSeconds`` must be set)."""
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=30)
    conn.request("GET", f"{path}?{urllib.parse.urlencode(dict(query, watch='1'))}")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    conn.close()
    return events


def later(delay: float, action: Any) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), action()))
    thread.start()
    return thread


def test_watch_without_version_lists_then_follows(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post(CMS, configmap("old"))
    thread = later(0.3, lambda: (api.post(CMS, configmap("new")), api.delete(f"{CMS}/old")))
    events = watch(sandbox, CMS, timeoutSeconds="1")
    thread.join()
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert seen == [("ADDED", "old"), ("ADDED", "new"), ("DELETED", "old")]
    assert events[0]["object"]["kind"] == "Secret"


def test_watch_from_resource_version(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    _, first = api.post(CMS, configmap("a"))
    api.patch(f"{CMS}/a", {"data": {"k": "Mg=="}})
    api.post(CMS, configmap("b"))
    events = watch(
        sandbox, CMS, resourceVersion=first["metadata"]["resourceVersion"], timeoutSeconds="0.3"
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("MODIFIED", "a"),
        ("ADDED", "b"),
    ]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(first["metadata"]["resourceVersion"])


def test_watch_selectors_turn_changes_into_added_and_deleted(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    _, obj = api.post(CMS, configmap("a", tier="db"))
    rv = obj["metadata"]["resourceVersion"]
    api.patch(f"{CMS}/a", {"metadata": {"labels": {"tier": "web"}}})
    api.patch(f"{CMS}/a", {"data": {"k": "eA=="}})
    api.patch(f"{CMS}/a", {"metadata": {"labels": {"tier": "db"}}})
    api.post(CMS, configmap("other", tier="db"))
    events = watch(sandbox, CMS, resourceVersion=rv, labelSelector="tier=web", timeoutSeconds="0.3")
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    events = watch(
        sandbox, CMS, resourceVersion=rv, fieldSelector="metadata.name=other", timeoutSeconds="0.3"
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "other")]


def test_bookmarks(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post(CMS, configmap("a"))
    current = api.get(CMS)[1]["metadata"]["resourceVersion"]
    events = watch(
        sandbox, CMS, resourceVersion=current, allowWatchBookmarks="true", timeoutSeconds="1.5"
    )
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks, events
    assert bookmarks[0]["object"]["kind"] == "Secret"
    assert bookmarks[0]["object"]["metadata"]["resourceVersion"] == current
    events = watch(
        sandbox,
        CMS,
        timeoutSeconds="0.2",
        sendInitialEvents="true",
        allowWatchBookmarks="true",
        resourceVersionMatch="NotOlderThan",
    )
    assert events[0]["type"] == "ADDED" and events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_timeout_ends_the_stream(sandbox: server.Sandbox) -> None:
    start = time.monotonic()
    events = watch(sandbox, CMS, resourceVersion="1", timeoutSeconds="1")
    elapsed = time.monotonic() - start
    assert 0.9 < elapsed < 2.5
    assert all(e["type"] != "ERROR" for e in events)


def test_too_old_resource_version_is_410() -> None:
    with server.Sandbox() as sandbox:
        api = Api(sandbox.url)
        history = sandbox.cluster.store
        assert isinstance(history, store.Store)
        for i in range(3):
            api.post(CMS, configmap(f"c{i}"))
        history._max_history = 2  # shrink the history so the next writes compact it
        for i in range(3):
            api.patch(f"{CMS}/c{i}", {"data": {"k": "Mg=="}})
        events = watch(sandbox, CMS, resourceVersion="2", timeoutSeconds="1")
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert "too old resource version" in status["message"]


def test_named_watch_path(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post(CMS, configmap("a"))
    api.post(CMS, configmap("b"))
    events = watch(sandbox, "/api/v1/watch/namespaces/default/secrets/b", timeoutSeconds="0.2")
    assert [e["object"]["metadata"]["name"] for e in events] == ["b"]


def test_bad_resource_version_is_400(sandbox: server.Sandbox) -> None:
    code, status = Api(sandbox.url).get(CMS, watch="1", resourceVersion="abc")
    assert code == 400 and status["reason"] == "BadRequest"


@pytest.fixture
def core(sandbox: server.Sandbox) -> kubernetes.client.CoreV1Api:
    config = kubernetes.client.Configuration()
    config.host = sandbox.url
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(config))


def test_python_client_watch(sandbox: server.Sandbox, core: kubernetes.client.CoreV1Api) -> None:
    body = kubernetes.client.V1ConfigMap(
        metadata=kubernetes.client.V1ObjectMeta(name="a"), data={"k": "v"}
    )
    created = core.create_namespaced_config_map("default", body)
    assert created.metadata.uid
    later(0.2, lambda: core.patch_namespaced_config_map("a", "default", {"data": {"k": "w"}}))
    seen = []
    for event in kubernetes.watch.Watch().stream(
        core.list_namespaced_config_map,
        "default",
        timeout_seconds=1,
        field_selector="metadata.name=a",
    ):
        seen.append((event["type"], event["object"].data["k"]))
    assert seen == [("ADDED", "v"), ("MODIFIED", "w")]


def test_python_client_errors(core: kubernetes.client.CoreV1Api) -> None:
    with pytest.raises(kubernetes.client.ApiException) as info:
        core.read_namespaced_config_map("nope", "default")
    assert info.value.status == 404
    assert json.loads(info.value.body)["reason"] == "NotFound"
    listed = core.list_namespace()
    assert {n.metadata.name for n in listed.items} >= {"default", "kube-system"}


def test_python_client_sees_410_for_an_expired_watch() -> None:
    with server.Sandbox() as sandbox:
        config = kubernetes.client.Configuration()
        config.host = sandbox.url
        core = kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(config))
        sandbox.cluster.store._max_history = 1
        api = Api(sandbox.url)
        for i in range(3):
            api.post(CMS, configmap(f"c{i}"))
        stream = kubernetes.watch.Watch().stream(
            core.list_namespaced_secret, "default", resource_version="2", timeout_seconds=1
        )
        with pytest.raises(kubernetes.client.ApiException) as info:
            list(stream)
    assert info.value.status == 410
