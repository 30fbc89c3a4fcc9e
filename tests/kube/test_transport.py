"""The transport's own HTTP/1.1: framing of requests and answers, keep-alive connections and
their reuse, malformed answers; and proxied clusters, which go through the client library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from strongroom.kube import client, config, errors, retry
from strongroom.sandbox import server
from tests.kube.scripted import (
    Answer,
    ForwardProxy,
    ScriptedServer,
    chunked_answer,
    json_answer,
)

NO_RETRY = retry.RetryPolicy(max_retries=0)
TOKEN = "proxy-token"


def cluster(url: str, **fields: object) -> config.ClusterConfig:
    return config.ClusterConfig(server=url, source="test", context="test", **fields)  # type: ignore[arg-type]


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    srv = ScriptedServer([]).start()
    yield srv
    srv.stop()


def kube_of(srv: ScriptedServer, **fields: object) -> client.Client:
    return client.Client(cluster(srv.url, **fields), retry_policy=NO_RETRY)


def test_a_request_arrives_whole_in_one_write(scripted: ScriptedServer) -> None:
    scripted.answers += [Answer(json_answer(b'{"kind":"ConfigMap"}', "201 Created"))]
    body = {"metadata": {"name": "a", "namespace": "x"}, "data": {"k": "v" * 5000}}
    with kube_of(scripted, token="t0k") as kube:
        created = kube.request(
            "POST", "/api/v1/namespaces/x/configmaps", query=[("a", "b c")], body=body,
            idempotent=False,
        )  # fmt: skip
    assert created == {"kind": "ConfigMap"}
    (seen,) = scripted.seen
    lines = seen.head.decode().split("\r\n")
    assert lines[0] == "POST /api/v1/namespaces/x/configmaps?a=b+c HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Authorization"] == "Bearer t0k"
    assert headers["Content-Type"] == "application/json"
    assert headers["Host"] == scripted.url.removeprefix("http://")
    assert headers["Accept-Encoding"] == "identity"
    assert json.loads(seen.body) == body
    assert seen.reads == 1, "head and body in one write: the server reads one packet"


def test_connections_are_kept_and_reused(scripted: ScriptedServer) -> None:
    scripted.answers += [Answer(json_answer(b'{"n":%d}' % i)) for i in range(3)]
    with kube_of(scripted) as kube:
        assert [kube.get_path("/version")["n"] for _ in range(3)] == [0, 1, 2]
    assert scripted.connections == 1


def test_chunked_and_close_delimited_answers(scripted: ScriptedServer) -> None:
    scripted.answers += [
        Answer(chunked_answer(b'{"items":', b"[1,2", b",3]}")),
        Answer(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"x":1}', close=True),
        Answer(json_answer(b'{"y":2}')),
    ]
    with kube_of(scripted) as kube:
        assert kube.get_path("/a") == {"items": [1, 2, 3]}
        assert kube.get_path("/b") == {"x": 1}
        assert kube.get_path("/c") == {"y": 2}
    assert [s.connection for s in scripted.seen] == [1, 1, 2]


def test_an_answer_with_connection_close_ends_its_connection(scripted: ScriptedServer) -> None:
    scripted.answers += [
        Answer(json_answer(b"{}", "200 OK", "Connection: close"), close=True),
        Answer(json_answer(b'{"again":true}')),
    ]
    with kube_of(scripted) as kube:
        assert kube.get_path("/a") == {}
        assert kube.get_path("/b") == {"again": True}
    assert scripted.connections == 2


def test_a_connection_the_server_closed_while_idle_is_not_used(
    scripted: ScriptedServer,
) -> None:
    scripted.answers += [Answer(json_answer(b"{}"), close=True), Answer(json_answer(b"[]"))]
    with kube_of(scripted) as kube:
        assert kube.get_path("/a") == {}
        time.sleep(0.2)  # the server's close arrives while the connection is idle
        assert kube.get_path("/b") == []
    assert [s.connection for s in scripted.seen] == [1, 2]


@pytest.mark.parametrize(
    "raw",
    [
        b"SPDY/3 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nine\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        None,
    ],
)
def test_a_malformed_or_missing_answer_is_unreachable_after_sending(
    scripted: ScriptedServer, raw: bytes | None
) -> None:
    scripted.answers += [Answer(raw, close=True)]
    with kube_of(scripted) as kube, pytest.raises(errors.ApiUnreachable) as info:
        kube.get_path("/version")
    assert info.value.request_sent and "unreachable" in str(info.value)


def test_an_error_answer_keeps_its_status_and_retry_after(scripted: ScriptedServer) -> None:
    status = b'{"kind":"Status","reason":"TooManyRequests","message":"slow down","code":429}'
    scripted.answers += [Answer(json_answer(status, "429 Too Many Requests", "Retry-After: 3"))]
    with kube_of(scripted) as kube, pytest.raises(errors.TooManyRequests) as info:
        kube.get_path("/version")
    assert info.value.retry_after == 3.0 and info.value.api_message == "slow down"


def test_a_path_is_percent_encoded_and_a_token_cannot_inject_headers(
    scripted: ScriptedServer,
) -> None:
    scripted.answers += [Answer(json_answer(b"{}"))]
    with kube_of(scripted) as kube:
        kube.get_path("/api/v1/namespaces/a b\r\nX-Injected: 1/é")
    assert scripted.seen[0].head.split(b"\r\n")[0] == (
        b"GET /api/v1/namespaces/a%20b%0D%0AX-Injected:%201/%C3%A9 HTTP/1.1"
    )
    with (
        kube_of(scripted, token="t\r\nX-Injected: 1") as kube,
        pytest.raises(errors.CredentialError),
    ):
        kube.get_path("/version")
    assert len(scripted.seen) == 1


def test_a_server_url_with_a_path_prefixes_every_request(scripted: ScriptedServer) -> None:
    scripted.answers += [Answer(json_answer(b"{}"))]
    with client.Client(cluster(scripted.url + "/k8s/clusters/c-1"), retry_policy=NO_RETRY) as kube:
        kube.get_path("/version")
    assert scripted.seen[0].head.startswith(b"GET /k8s/clusters/c-1/version HTTP/1.1")


def test_a_server_that_is_not_an_http_url_is_a_configuration_error() -> None:
    with pytest.raises(errors.KubeConfigError, match="not an http"):
        client.Client(cluster("ftp://127.0.0.1:21"))


def test_plain_http_cluster_through_a_forward_proxy(sandbox: server.Sandbox) -> None:
    proxy = ForwardProxy().start()
    try:
        with client.Client(cluster(sandbox.url, proxy_url=proxy.url)) as kube:
            assert kube.server_version()["major"]
    finally:
        proxy.stop()
    assert proxy.requests == [f"GET {sandbox.url}/version HTTP/1.1".encode()]


def test_https_cluster_through_a_proxy_tunnel() -> None:
    proxy = ForwardProxy().start()
    try:
        with server.Sandbox(token=TOKEN) as https:
            cfg = cluster(https.url, proxy_url=proxy.url, ca_data=https.ca_certificate, token=TOKEN)
            with client.Client(cfg) as kube:
                assert kube.get("namespaces", "default")["metadata"]["name"] == "default"
    finally:
        proxy.stop()
    assert proxy.requests[0].startswith(b"CONNECT 127.0.0.1:")


def test_the_client_library_is_imported_only_for_a_proxied_cluster() -> None:
    probe = (
        "import sys\n"
        "from strongroom.kube import client, config\n"
        "c = client.Client(config.ClusterConfig(server='https://127.0.0.1:1', source='t', "
        "context='t'))\n"
        "print('kubernetes' in sys.modules, 'urllib3' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert found.split() == ["False", "False"], "importing the library costs every command 0.2 s"


@pytest.mark.parametrize("no_proxy", ["", "127.0.0.1"])
def test_a_proxy_from_the_environment_is_used_unless_no_proxy_exempts_the_server(
    sandbox: server.Sandbox, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    proxy = ForwardProxy().start()
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", proxy.url)
    monkeypatch.setenv("no_proxy", no_proxy)
    try:
        with client.Client(cluster(sandbox.url)) as kube:
            assert kube.server_version()["major"]
    finally:
        proxy.stop()
    assert len(proxy.requests) == (0 if no_proxy else 1)
