"""Watch streams from the sandbox: events, timeouts, resuming and bookmarks."""

from __future__ import annotations

import threading
import time

import pytest

from strongroom.kube import bodies, client, errors
from tests.kube.conftest import configmap


def test_watch_sees_changes_and_ends_at_the_timeout(kube: client.Client) -> None:
    start_rv = next(kube.list_pages("configmaps", "default")).resource_version

    def change() -> None:
        time.sleep(0.2)
        kube.create("configmaps", configmap("w1", app="x"))
        kube.patch("configmaps", "w1", {"data": {"k": "v"}}, "default")
        kube.create("configmaps", configmap("other"))
        kube.delete("configmaps", "w1", "default")

    writer = threading.Thread(target=change)
    writer.start()
    began = time.monotonic()
    events = list(
        kube.watch(
            "configmaps",
            "default",
            resource_version=start_rv,
            label_selector="app=x",
            timeout_seconds=2,
        )
    )
    elapsed = time.monotonic() - began
    writer.join()
    changes = [(e.type, e.object["metadata"]["name"]) for e in events if e.type != "BOOKMARK"]
    assert changes == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]
    assert 1.5 < elapsed < 6
    rvs = [int(e.resource_version) for e in events if e.type != "BOOKMARK"]
    assert rvs == sorted(rvs) and rvs[0] > int(start_rv)


def test_watch_resumes_from_a_resource_version(kube: client.Client) -> None:
    first = kube.create("configmaps", configmap("r1"))
    kube.create("configmaps", configmap("r2"))
    kube.create("configmaps", configmap("r3"))
    events = list(
        kube.watch(
            "configmaps",
            "default",
            resource_version=first["metadata"]["resourceVersion"],
            timeout_seconds=1,
            allow_bookmarks=False,
        )
    )
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [
        ("ADDED", "r2"),
        ("ADDED", "r3"),
    ]


def test_watch_can_be_abandoned_early(kube: client.Client) -> None:
    kube.create("configmaps", configmap("a1"))
    stream = kube.watch("configmaps", "default", resource_version="0", timeout_seconds=30)
    began = time.monotonic()
    first = next(stream)
    stream.close()
    assert isinstance(first, bodies.WatchEvent) and first.type == "ADDED"
    assert time.monotonic() - began < 5


def test_watch_of_an_unknown_namespace_resource(kube: client.Client) -> None:
    with pytest.raises(errors.UnknownResource):
        next(kube.watch("gizmos", timeout_seconds=1))


def test_wait_for_condition_times_out(kube: client.Client) -> None:
    kube.create("configmaps", configmap("never"))
    began = time.monotonic()
    with pytest.raises(errors.ConditionTimeout, match="configmaps never: not Ready=True"):
        kube.wait_for_condition(
            "configmaps", "never", "default", condition="Ready", timeout=0.5, poll_interval=0.1
        )
    assert time.monotonic() - began < 3
