"""Retries through a fault-injecting proxy in front of the sandbox, and unreachable servers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from strongroom import errors as root_errors
from strongroom.kube import client, config, errors, retry
from strongroom.sandbox import server
from tests.fixtures.ports import free_port
from tests.kube.conftest import FAST_RETRY, configmap
from tests.kube.faultproxy import Fault, FaultProxy

CMS = "/api/v1/namespaces/default/configmaps"


class RecordingClock:
    """The real clock, with every sleep recorded."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def proxy(sandbox: server.Sandbox) -> Iterator[FaultProxy]:
    fp = FaultProxy(sandbox.url).start()
    yield fp
    fp.stop()


def via(proxy: FaultProxy, clock: RecordingClock | None = None, **options: object) -> client.Client:
    cluster = config.ClusterConfig(server=proxy.url, source="test", context="test")
    return client.Client(cluster, retry_policy=FAST_RETRY, clock=clock, **options)  # type: ignore[arg-type]


def test_get_retried_after_429_honouring_retry_after(proxy: FaultProxy) -> None:
    clock = RecordingClock()
    with via(proxy, clock) as kube:
        kube.create("configmaps", configmap("a"))
        proxy.faults.append(Fault("GET", f"{CMS}/a", status=429, retry_after="1", times=1))
        assert kube.get("configmaps", "a", "default")["metadata"]["name"] == "a"
    assert proxy.count("GET", f"{CMS}/a") == 2
    assert clock.sleeps == [1.0]


def test_list_retried_after_503_and_a_dropped_connection(proxy: FaultProxy) -> None:
    with via(proxy) as kube:
        kube.create("configmaps", configmap("a", test="a"))
        proxy.faults.append(Fault("GET", CMS, status=503, times=2))
        proxy.faults.append(Fault("GET", CMS, drop=True, times=1))
        listed = kube.list("configmaps", "default", label_selector="test=a")
        assert [i["metadata"]["name"] for i in listed] == ["a"]
    assert proxy.count("GET", CMS) == 4


def test_retries_give_up_with_the_last_error(proxy: FaultProxy) -> None:
    with via(proxy) as kube:
        proxy.faults.append(Fault("GET", f"{CMS}/a", status=503, times=100))
        with pytest.raises(errors.ServerError) as info:
            kube.get("configmaps", "a", "default")
    assert info.value.status == 503 and info.value.retryable
    assert proxy.count("GET", f"{CMS}/a") == FAST_RETRY.max_retries + 1


def test_create_not_retried_after_503_but_after_429(proxy: FaultProxy) -> None:
    with via(proxy) as kube:
        proxy.faults.append(Fault("POST", CMS, status=503, times=1))
        with pytest.raises(errors.ServerError):
            kube.create("configmaps", configmap("once"))
        assert proxy.count("POST", CMS) == 1
        proxy.faults.append(Fault("POST", CMS, status=429, retry_after="0", times=1))
        assert kube.create("configmaps", configmap("twice"))["metadata"]["name"] == "twice"
        assert proxy.count("POST", CMS) == 3


def test_put_retried_only_with_a_resource_version(proxy: FaultProxy) -> None:
    with via(proxy) as kube:
        current = kube.create("configmaps", configmap("p"))
        proxy.faults.append(Fault("PUT", f"{CMS}/p", status=503, times=1))
        current["data"] = {"k": "2"}
        assert kube.replace("configmaps", current)["data"] == {"k": "2"}
        assert proxy.count("PUT", f"{CMS}/p") == 2
        blind = configmap("p")
        proxy.faults.append(Fault("PUT", f"{CMS}/p", status=503, times=1))
        with pytest.raises(errors.ServerError):
            kube.replace("configmaps", blind)
        assert proxy.count("PUT", f"{CMS}/p") == 3


def test_watch_start_is_retried(proxy: FaultProxy) -> None:
    with via(proxy) as kube:
        kube.create("configmaps", configmap("w"))
        proxy.faults.append(Fault("GET", f"{CMS}?watch", status=503, times=1))
        events = list(kube.watch("configmaps", "default", resource_version="0", timeout_seconds=1))
    added = [e.object["metadata"]["name"] for e in events if e.type == "ADDED"]
    assert "w" in added
    assert proxy.count("GET", f"{CMS}?watch") == 2


def test_rate_limit_applies_to_every_request(proxy: FaultProxy) -> None:
    with via(proxy, qps=20, burst=1) as kube:
        kube.discovery.find("configmaps")
        began = time.monotonic()
        for _ in range(6):
            kube.get_path("/version")
        assert time.monotonic() - began >= 0.25  # six requests at 20/s after the burst


def test_unreachable_server_fails_fast() -> None:
    cluster = config.ClusterConfig(
        server=f"http://127.0.0.1:{free_port()}", source="test", context="test"
    )
    began = time.monotonic()
    with client.Client(cluster) as kube, pytest.raises(errors.ApiUnreachable) as info:
        kube.get("namespaces", "default")
    assert time.monotonic() - began < 3
    exc = info.value
    assert isinstance(exc, root_errors.UnreachableError) and exc.exit_code == 8
    assert not exc.request_sent and "unreachable" in str(exc)


def test_unresolvable_host_is_unreachable() -> None:
    cluster = config.ClusterConfig(
        server="http://no-such-host.invalid:6443", source="t", context="t"
    )
    policy = retry.RetryPolicy(max_retries=0)
    with client.Client(cluster, retry_policy=policy) as kube, pytest.raises(errors.ApiUnreachable):
        kube.get_path("/version")


def test_read_timeout_is_unreachable(proxy: FaultProxy) -> None:
    with via(proxy, read_timeout=0.3) as kube:
        proxy.delay = 1.0
        with pytest.raises(errors.ApiUnreachable) as info:
            kube.get_path("/version")
    assert info.value.request_sent


def test_a_group_whose_discovery_fails_is_left_out_and_named(proxy: FaultProxy) -> None:
    with via(proxy) as kube:
        proxy.faults.append(Fault("GET", "/apis/apps/v1", status=503, times=100))
        snapshot = kube.discovery.snapshot()
    assert snapshot.failed_groups == ("apps",)
    served = {r.group_resource for r in snapshot.resources}
    assert "configmaps" in served and "jobs.batch" in served
    assert not any(gr.endswith(".apps") for gr in served)
