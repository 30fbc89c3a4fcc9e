"""Pod volumes through node agents, beside ``strongroom volume backup`` of the same folders.

A sandbox cluster with two nodes runs a StatefulSet of three replicas, each claim holding
``--size-mib`` MiB (4 MiB segments, random bytes and log lines alternating, different in each
volume so that nothing deduplicates across them). Two ``strongroom node-agent`` processes, one
per node, serve ``strongroom backup create`` (as a process) into one repository; then the
namespace is deleted and ``strongroom restore create`` brings it back, returning once every
volume is restored. Beside it, in the same run, the three folders are backed up one after the
other with ``strongroom volume backup`` into a second, fresh repository, and restored with
``strongroom volume restore``. The target: the Kubernetes path costs at most 1.2x the direct
one. Wall times of the commands; the agents' CPU time is read from ``/proc`` when they stop.

    .venv/bin/python bench/pod_volumes.py --workdir /dev/shm [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import timing
from volume_data import MIB, SEGMENT, log_text, random_bytes, touch_memory

from strongroom.crypto import agekeys
from strongroom.engine.podvolumes import objects
from strongroom.kube import client
from strongroom.sandbox import server

BIN = pathlib.Path(sys.executable).parent
STRONGROOM = str(BIN / "strongroom")
MB = 1e6
REPLICAS = 3


def segment(pod: int, index: int) -> bytes:
    if index % 2 == 0:
        return random_bytes(SEGMENT, "pod", pod, index)
    return log_text(SEGMENT, "pod", pod, index)


def fill(folder: pathlib.Path, pod: int, size: int, pool: concurrent.futures.Executor) -> None:
    with (folder / "data.img").open("wb") as out:
        for data in pool.map(segment, [pod] * (size // SEGMENT), range(size // SEGMENT)):
            out.write(data)


def run(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:4])} failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - started


def stateful_set() -> dict[str, Any]:
    claims = [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
               "resources": {"requests": {"storage": "10Gi"}}}}]  # fmt: skip
    template = {"metadata": {"labels": {"app": "db"},
                             "annotations": {"backup.velero.io/backup-volumes": "data"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:16"}]}}  # fmt: skip
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"replicas": REPLICAS, "serviceName": "db", "template": template,
                     "selector": {"matchLabels": {"app": "db"}},
                     "volumeClaimTemplates": claims}}  # fmt: skip


def wait_running(kube: client.Client, count: int) -> list[Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pods = list(kube.list("pods", "shop"))
        if len(pods) == count and all(p["status"].get("phase") == "Running" for p in pods):
            return pods
        time.sleep(0.05)
    raise SystemExit("the pods did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="data per volume")
    parser.add_argument("--workdir", default=None, help="where to work (default: tmp)")
    args = parser.parse_args()
    size = max(2, args.size_mib // 4) * SEGMENT
    work = pathlib.Path(tempfile.mkdtemp(prefix="strongroom-bench-pods-", dir=args.workdir))
    try:
        measure(work, size)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def prepare(work: pathlib.Path) -> tuple[dict[str, str], pathlib.Path]:
    """Two locations (fresh repositories) and a writer credential for the first."""
    identity = agekeys.Identity.generate()
    (work / "id.txt").write_text(identity.encode() + "\n")
    env = dict(os.environ, STRONGROOM_CONFIG=str(work / "config.yaml"),
               STRONGROOM_IDENTITY=str(work / "id.txt"))  # fmt: skip
    for name in ("bench", "direct"):
        run([STRONGROOM, "location", "create", name, "--provider", "filesystem", "--bucket",
             str(work / name), "--recipient", identity.recipient().encode()], env)  # fmt: skip
    credential = work / "writer.json"
    run([STRONGROOM, "key", "add", "--writer-output", str(credential), "--location", "bench"], env)
    return env, credential


def deploy(kube: client.Client, sandbox: server.Sandbox, size: int) -> list[pathlib.Path]:
    """The definitions, the namespaces, the StatefulSet; its volumes filled; their folders."""
    for definition in objects.definitions():
        kube.create("customresourcedefinitions", definition)  # type: ignore[arg-type]
        kube.wait_for_condition("customresourcedefinitions", definition["metadata"]["name"])
    for namespace in (objects.DEFAULT_NAMESPACE, "shop"):
        kube.create("namespaces", {"metadata": {"name": namespace}})
    kube.create("statefulsets", stateful_set())  # type: ignore[arg-type]
    pods = sorted(wait_running(kube, REPLICAS), key=lambda p: p["metadata"]["name"])
    folders = []
    with concurrent.futures.ProcessPoolExecutor(os.cpu_count() or 2) as pool:
        for number, pod in enumerate(pods):
            name = f"data-{pod['metadata']['name']}"
            claim = kube.get("persistentvolumeclaims", name, "shop")
            folder = sandbox.files / "storage" / claim["spec"]["volumeName"]
            fill(folder, number, size, pool)
            folders.append(folder)
    nodes = sorted({p["spec"]["nodeName"] for p in pods})
    print(f"... {REPLICAS} volumes of {size / MIB:,.0f} MiB on {nodes}")
    return folders


def timed_step(label: str, argvs: list[list[str]], env: dict[str, str], work: pathlib.Path,
               total: int) -> float:  # fmt: skip
    os.sync()
    touch_memory(work, total)
    seconds = sum(run(argv, env) for argv in argvs)
    print(f"... {label}: {seconds:.2f}s")
    return seconds


def measure(work: pathlib.Path, size: int) -> None:
    env, credential = prepare(work)
    total = REPLICAS * size
    times: dict[str, float] = {}
    with server.Sandbox(state_dir=work / "state") as sandbox:
        kubeconfig = sandbox.write_kubeconfig(work / "kubeconfig")
        env["KUBECONFIG"] = str(kubeconfig)
        kube = client.Client.from_kubeconfig(kubeconfig)
        folders = deploy(kube, sandbox, size)
        agents = [
            subprocess.Popen([STRONGROOM, "--kubeconfig", str(kubeconfig), "node-agent",
                              "--node-name", node, "--kubelet-root",
                              str(sandbox.kubelet_root(node)), "--writer-credential",
                              str(credential)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for node in sandbox.node_names
        ]  # fmt: skip
        try:
            times["k8s backup"] = timed_step("backup create with the pod volumes", [[
                STRONGROOM, "backup", "create", "b1", "--include-namespaces", "shop",
                "--storage-location", "bench"]], env, work, total)  # fmt: skip
            agent_cpu_backup = sum(timing.cpu_seconds(a.pid) for a in agents)
            times["direct backup"] = timed_step("volume backup of each folder", [
                [STRONGROOM, "volume", "backup", str(f), "--storage-location", "direct"]
                for f in folders], env, work, total)  # fmt: skip
            kube.delete("namespaces", "shop")
            while "shop" in {n["metadata"]["name"] for n in kube.list("namespaces")}:
                time.sleep(0.05)
            times["k8s restore"] = timed_step("restore create with the pod volumes", [[
                STRONGROOM, "restore", "create", "--from-backup", "b1",
                "--storage-location", "bench"]], env, work, total)  # fmt: skip
            wait_running(kube, REPLICAS)
            agent_cpu = sum(timing.cpu_seconds(a.pid) for a in agents)
            agent_rss = max(timing.peak_rss_mib(a.pid) for a in agents)
        finally:
            for each in agents:
                each.send_signal(signal.SIGTERM)
                each.wait(timeout=60)
        listed = subprocess.run([STRONGROOM, "volume", "list", "--storage-location", "direct",
                                 "-o", "json"], env=env, capture_output=True, text=True,
                                check=True).stdout  # fmt: skip
        ids = [item["metadata"]["name"] for item in json.loads(listed)["items"]]
        times["direct restore"] = timed_step("volume restore of each snapshot", [
            [STRONGROOM, "volume", "restore", sid, "--target", str(work / "out" / sid),
             "--storage-location", "direct"] for sid in ids], env, work, total)  # fmt: skip
        kube.close()
    report(times, size, agent_cpu_backup, agent_cpu)
    print(f"node agents' peak RSS: {agent_rss:.0f} MiB (the larger of the two; each ran up to "
          "two volumes at once)")  # fmt: skip


def report(times: dict[str, float], size: int, cpu_backup: float, cpu_all: float) -> None:
    total = REPLICAS * size
    print(f"\n{REPLICAS} volumes x {size / MIB:,.0f} MiB on 2 nodes; {os.cpu_count()} cores; "
          "MB = 10^6 bytes; ratio: Kubernetes path over direct (target <= 1.2x)")  # fmt: skip
    print("step | through node agents s | MB/s | volume backup/restore s | MB/s | ratio")
    print("--- | --- | --- | --- | --- | ---")
    for step in ("backup", "restore"):
        k8s, direct = times[f"k8s {step}"], times[f"direct {step}"]
        print(f"{step} | {k8s:.2f} | {total / MB / k8s:,.0f} | {direct:.2f} | "
              f"{total / MB / direct:,.0f} | {k8s / direct:.2f}x")  # fmt: skip
    print(
        f"\nnode agents' CPU time: {cpu_backup:.2f}s for the backup, "
        f"{cpu_all - cpu_backup:.2f}s for the restore"
    )


if __name__ == "__main__":
    main()
