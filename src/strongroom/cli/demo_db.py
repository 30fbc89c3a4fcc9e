"""The database of ``strongroom demo``: a StatefulSet with a claim per replica, rows in its
volumes, and the node agents that carry them through the backup and back."""

from __future__ import annotations

import contextlib
import pathlib
import threading
import time
from collections.abc import Iterator
from typing import Any, cast

from strongroom import clock, errors
from strongroom.engine.podvolumes import agent, objects
from strongroom.kube import bodies
from strongroom.kube import client as kube_client
from strongroom.repository import repo, writers
from strongroom.sandbox import server

REPLICAS = 2
ROWS = "pgdata/orders.tbl"


class NotStarted(errors.StrongroomError):
    pass


def install(kube: kube_client.Client) -> None:
    """What ``strongroom install`` will apply for the agents: their definitions and namespace."""
    for definition in objects.definitions():
        kube.create("customresourcedefinitions", cast(bodies.KubeObject, definition))
        kube.wait_for_condition("customresourcedefinitions", definition["metadata"]["name"])
    kube.create("namespaces", {"metadata": {"name": objects.DEFAULT_NAMESPACE}})


def stateful_set(namespace: str) -> dict[str, Any]:
    claims = [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
               "resources": {"requests": {"storage": "1Gi"}}}}]  # fmt: skip
    template = {"metadata": {"labels": {"app": "shop-db"},
                             "annotations": {"backup.velero.io/backup-volumes": "data"}},
                "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]}}  # fmt: skip
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "shop-db", "namespace": namespace},
            "spec": {"replicas": REPLICAS, "serviceName": "shop-db", "template": template,
                     "selector": {"matchLabels": {"app": "shop-db"}},
                     "volumeClaimTemplates": claims}}  # fmt: skip


def running(kube: kube_client.Client, namespace: str, seconds: float = 30) -> list[Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pods = [p for p in kube.list("pods", namespace, label_selector="app=shop-db")]
        if len(pods) == REPLICAS and all(p["status"].get("phase") == "Running" for p in pods):
            return sorted(pods, key=lambda p: p["metadata"]["name"])
        time.sleep(0.05)
    raise NotStarted(f"the database in {namespace!r} did not start within {seconds:g}s")


def volume(sandbox: server.Sandbox, kube: kube_client.Client, pod: Any) -> pathlib.Path:
    """Where the pod's claim shows on its node (what the database would write to)."""
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    claim = kube.get("persistentvolumeclaims", f"data-{name}", namespace)
    root = sandbox.kubelet_root(str(pod["spec"]["nodeName"]))
    volumes = root / "pods" / str(pod["metadata"]["uid"]) / "volumes" / "kubernetes.io~csi"
    return volumes / str(claim["spec"]["volumeName"]) / "mount"


def deploy(kube: kube_client.Client, sandbox: server.Sandbox, namespace: str) -> dict[str, bytes]:
    """The database, running, with rows written into each replica's volume; the rows."""
    kube.create("statefulsets", cast(bodies.KubeObject, stateful_set(namespace)))
    written = {}
    for pod in running(kube, namespace):
        name = pod["metadata"]["name"]
        rows = "".join(f"{n:06d}|order-{name}-{n}|WELCOME10|{n * 7 % 1000}.00\n"
                       for n in range(20_000)).encode()  # fmt: skip
        target = volume(sandbox, kube, pod) / ROWS
        target.parent.mkdir(parents=True)
        target.write_bytes(rows)
        written[name] = rows
    return written


def rows(kube: kube_client.Client, sandbox: server.Sandbox, namespace: str) -> dict[str, bytes]:
    return {p["metadata"]["name"]: (volume(sandbox, kube, p) / ROWS).read_bytes()
            for p in running(kube, namespace)}  # fmt: skip


@contextlib.contextmanager
def agents(
    kube: kube_client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> Iterator[None]:
    """A node agent per node of ``sandbox`` (threads here; processes on a cluster), each with
    a writer credential: it stores volumes it cannot read back."""
    credential = repository.add_writer()
    target = writers.WriterRepository.open(repository.backend, credential, clock.SystemClock())
    running_agents = [
        agent.Agent(kube, node, sandbox.kubelet_root(node), lambda _: target, interval=0.2)
        for node in sandbox.node_names
    ]
    threads = [threading.Thread(target=a.run, daemon=True) for a in running_agents]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for each in running_agents:
            each.stop()
        for thread in threads:
            thread.join(timeout=30)
