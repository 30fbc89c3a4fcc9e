"""The server itself: loopback only, token authentication, kubeconfig, persistence, startup."""

from __future__ import annotations

import base64
import pathlib
import time

import pytest
import yaml

from strongroom import errors
from strongroom.sandbox import persistence, server
from tests.sandbox.api import Api, configmap, namespace


def test_non_loopback_hosts_are_refused() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.com"):
        with pytest.raises(server.SandboxError, match="loopback"):
            server.Sandbox(host=host)


def test_start_is_fast_and_stop_closes_the_port() -> None:
    start = time.monotonic()
    sandbox = server.Sandbox().start()
    elapsed = time.monotonic() - start
    url = sandbox.url
    assert Api(url).get("/version")[0] == 200
    sandbox.stop()
    assert elapsed < 0.1, elapsed
    with pytest.raises(OSError):
        Api(url).get("/version")


def test_token_authentication_over_tls() -> None:
    with server.Sandbox(token="s3cret") as sandbox:
        assert sandbox.url.startswith("https://127.0.0.1:")
        ca = sandbox.ca_certificate
        for path in ("/version", "/api", "/apis", "/api/v1/namespaces"):
            code, status = Api(sandbox.url, ca=ca).get(path)
            assert code == 401, path
            assert status["reason"] == "Unauthorized" and status["kind"] == "Status"
        assert Api(sandbox.url, token="wrong", ca=ca).get("/api/v1/namespaces")[0] == 401
        assert Api(sandbox.url, token="s3cret", ca=ca).get("/api/v1/namespaces")[0] == 200
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
            Api(sandbox.url, token="s3cret").get("/version")


def test_token_over_plain_http_when_asked() -> None:
    with server.Sandbox(token="s3cret", tls=False) as sandbox:
        assert sandbox.url.startswith("http://") and sandbox.ca_certificate is None
        assert Api(sandbox.url).get("/version")[0] == 401
        assert Api(sandbox.url, token="s3cret").get("/version")[0] == 200


def test_kubeconfig(tmp_path: pathlib.Path) -> None:
    with server.Sandbox(token="t0k") as sandbox:
        path = sandbox.write_kubeconfig(tmp_path / "kc" / "config", context="lab")
        ca = sandbox.ca_certificate
        doc = yaml.safe_load(path.read_text())
        assert path.stat().st_mode & 0o077 == 0
    assert doc["current-context"] == "lab"
    assert doc["clusters"][0]["cluster"]["server"] == sandbox.url
    assert doc["users"][0]["user"]["token"] == "t0k"
    assert base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"]) == ca


def test_state_survives_a_restart(tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state"
    with server.Sandbox(state_dir=state) as first:
        api = Api(first.url)
        api.post("/api/v1/namespaces", namespace("shop"))
        _, cm = api.post("/api/v1/namespaces/shop/configmaps", configmap("cfg", "shop"))
        _, svc = api.post(
            "/api/v1/namespaces/shop/services",
            {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}},
        )
        crd = {
            "metadata": {"name": "things.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "things", "kind": "Thing"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": {"type": "object"}},
                    }
                ],
            },
        }
        api.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        api.post(
            "/apis/example.com/v1/namespaces/shop/things",
            {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"}},
        )
        last_rv = int(api.get("/api/v1/namespaces")[1]["metadata"]["resourceVersion"])
    assert (state / "cluster.json").exists()
    with server.Sandbox(state_dir=state) as second:
        api = Api(second.url)
        code, again = api.get("/api/v1/namespaces/shop/configmaps/cfg")
        assert code == 200 and again["metadata"]["uid"] == cm["metadata"]["uid"]
        assert api.get("/apis/example.com/v1/namespaces/shop/things/t")[0] == 200
        code, status = api.post(
            "/api/v1/namespaces/shop/services",
            {
                "metadata": {"name": "dup"},
                "spec": {"clusterIP": svc["spec"]["clusterIP"], "ports": [{"port": 80}]},
            },
        )
        assert code == 422, "allocations are restored with the services"
        _, new = api.post("/api/v1/namespaces/shop/configmaps", configmap("more", "shop"))
        assert int(new["metadata"]["resourceVersion"]) > last_rv


def test_concurrent_clients(sandbox: server.Sandbox) -> None:
    import concurrent.futures

    api = Api(sandbox.url)

    def make(i: int) -> int:
        return api.post("/api/v1/namespaces/default/configmaps", configmap(f"c{i}"))[0]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(make, range(80)))
    assert codes == [201] * 80
    _, body = api.get(
        "/api/v1/namespaces/default/configmaps", fieldSelector="metadata.name!=kube-root-ca.crt"
    )
    rvs = {i["metadata"]["resourceVersion"] for i in body["items"]}
    assert len(rvs) == 80


def test_an_unreadable_state_directory_is_a_configuration_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / "cluster.json").write_text("{not json")
    with pytest.raises(persistence.StateError, match="is unreadable") as info:
        server.Sandbox(state_dir=tmp_path).start()
    assert info.value.exit_code == errors.ExitCode.INVALID_CONFIG
