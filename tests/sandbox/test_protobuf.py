"""Protobuf request bodies, as kubectl's typed ``create`` commands send them."""

from __future__ import annotations

import base64
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.sandbox import protobuf, server, status
from tests.sandbox.api import Api

KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"


def kubectl(kubeconfig: pathlib.Path, *args: str) -> str:
    env = dict(os.environ, HOME=str(kubeconfig.parent))
    out = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_kubectl_create_commands(sandbox: server.Sandbox, sandbox_kubeconfig: pathlib.Path) -> None:
    k = sandbox_kubeconfig
    kubectl(k, "create", "namespace", "demo")
    kubectl(
        k, "create", "configmap", "cfg", "-n", "demo", "--from-literal=a=1", "--from-literal=b=two"
    )
    kubectl(k, "create", "secret", "generic", "pw", "-n", "demo", "--from-literal=password=hunter2")
    kubectl(
        k,
        "create",
        "deployment",
        "web",
        "-n",
        "demo",
        "--image=nginx:1.25",
        "--replicas=0",
        "--port=80",
    )
    kubectl(k, "create", "service", "nodeport", "np", "-n", "demo", "--tcp=80:8080")
    kubectl(
        k, "create", "cronjob", "nightly", "-n", "demo", "--image=busybox", "--schedule=0 1 * * *"
    )
    api = Api(sandbox.url)
    ns: dict[str, Any] = api.get("/api/v1/namespaces/demo")[1]
    assert ns["status"]["phase"] == "Active" and "generation" not in ns["metadata"]
    cfg = api.get("/api/v1/namespaces/demo/configmaps/cfg")[1]
    assert cfg["data"] == {"a": "1", "b": "two"}
    assert "creationTimestamp" in cfg["metadata"] and "generateName" not in cfg["metadata"]
    secret = api.get("/api/v1/namespaces/demo/secrets/pw")[1]
    assert base64.b64decode(secret["data"]["password"]) == b"hunter2"
    dep = api.get("/apis/apps/v1/namespaces/demo/deployments/web")[1]
    assert dep["spec"]["replicas"] == 0, "a meaningful zero survives the protobuf decoding"
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.25" and container["ports"] == [{"containerPort": 80}]
    assert "stdin" not in container, "unset booleans are not invented"
    svc = api.get("/api/v1/namespaces/demo/services/np")[1]
    assert svc["spec"]["ports"][0]["targetPort"] == 8080
    assert 30000 <= svc["spec"]["ports"][0]["nodePort"] <= 32767
    cron = api.get("/apis/batch/v1/namespaces/demo/cronjobs/nightly")[1]
    assert cron["spec"]["schedule"] == "0 1 * * *"


def test_kubectl_create_duplicate_is_already_exists(sandbox_kubeconfig: pathlib.Path) -> None:
    kubectl(sandbox_kubeconfig, "create", "namespace", "twice")
    env = dict(os.environ, HOME=str(sandbox_kubeconfig.parent))
    out = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(sandbox_kubeconfig), "create", "namespace", "twice"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert out.returncode == 1
    assert 'namespaces "twice" already exists' in out.stderr


def test_bodies_without_the_magic_are_400() -> None:
    with pytest.raises(status.ApiError) as info:
        protobuf.decode(b'{"kind": "Namespace"}')
    assert info.value.code == 400


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_is_refused_cleanly(tail: bytes) -> None:
    try:
        obj = protobuf.decode(protobuf.MAGIC + tail)
    except status.ApiError as exc:
        assert exc.code in (400, 415)
    else:
        assert isinstance(obj, dict) and "kind" in obj


def _field(number: int, payload: bytes) -> bytes:
    size = len(payload)
    varint = bytearray()
    while True:
        byte = size & 0x7F
        size >>= 7
        varint.append(byte | (0x80 if size else 0))
        if not size:
            break
    return bytes([number << 3 | 2]) + bytes(varint) + payload


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(
        [
            (b"v1", b"Namespace"),
            (b"apps/v1", b"Deployment"),
            (b"v1", b"Pod"),
            (b"v1", b"Secret"),
            (b"batch/v1", b"CronJob"),
        ]
    ),
    st.binary(max_size=120),
)
def test_garbage_inside_a_known_kind_is_refused_cleanly(
    kind: tuple[bytes, bytes], raw: bytes
) -> None:
    type_meta = _field(1, kind[0]) + _field(2, kind[1])
    body = protobuf.MAGIC + _field(1, type_meta) + _field(2, raw)
    try:
        obj = protobuf.decode(body)
    except status.ApiError as exc:
        assert exc.code == 400
    else:
        assert obj["kind"] == kind[1].decode()
