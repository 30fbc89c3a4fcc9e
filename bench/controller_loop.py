"""Reacting to custom objects: a kopf operator beside a loop on Strongroom's own client.

Both run as processes against a sandbox cluster and do the same trivial job: when a
PodVolumeBackup appears, set its ``status.phase`` to Completed. The bench creates ``--count``
objects one after another and measures, per contestant, the time from each create to its
status change as the bench's own watch sees it (median and 95th percentile), the total time,
and the process's peak RSS and CPU time. kopf is not a dependency of Strongroom: give a Python
that has it (``--kopf-python``, e.g. a scratch virtualenv with ``pip install kopf``); without
one, only Strongroom's loop is measured. Used for docs/adr/0009.

    .venv/bin/python bench/controller_loop.py --kopf-python /var/tmp/kopfenv/bin/python
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import timing

from strongroom.engine.podvolumes import objects
from strongroom.kube import client
from strongroom.sandbox import server

KOPF_OPERATOR = """
import kopf

@kopf.on.startup()
def configure(settings, **_):
    settings.posting.enabled = False

@kopf.on.create("strongroom.io", "v1", "podvolumebackups")
def created(patch, **_):
    patch.status["phase"] = "Completed"
"""

OWN_LOOP = """
import sys, threading
from strongroom.engine.podvolumes import objects
from strongroom.kube import client

kube = client.Client.from_kubeconfig(sys.argv[1])
done = set()
lock = threading.Lock()

def offer(obj):
    name = obj["metadata"]["name"]
    with lock:
        if objects.phase(obj) != objects.NEW or name in done:
            return
        done.add(name)
    kube.patch(objects.RESOURCE, name, {"status": {"phase": "Completed"}}, "strongroom",
               subresource="status")

def watch():
    while True:
        for event in kube.watch(objects.RESOURCE, "strongroom", timeout_seconds=30):
            if event.type == "ADDED":
                offer(event.object)

threading.Thread(target=watch, daemon=True).start()
stop = threading.Event()
while not stop.wait(1.0):  # the list that catches what a watch missed
    for obj in kube.list(objects.RESOURCE, "strongroom"):
        offer(obj)
"""


def contest(name: str, argv: list[str], env: dict[str, str], count: int) -> dict[str, Any]:
    """Start a contestant against a fresh sandbox; create ``count`` objects; measure."""
    with server.Sandbox() as sandbox, tempfile.TemporaryDirectory() as work:
        kubeconfig = sandbox.write_kubeconfig(pathlib.Path(work) / "kubeconfig")
        kube = client.Client.from_kubeconfig(kubeconfig)
        kube.create("customresourcedefinitions", objects.definition())  # type: ignore[arg-type]
        kube.wait_for_condition("customresourcedefinitions", "podvolumebackups.strongroom.io")
        kube.create("namespaces", {"metadata": {"name": "strongroom"}})
        command = [a.replace("{kubeconfig}", str(kubeconfig)) for a in argv]
        proc = subprocess.Popen(command, env=dict(env, KUBECONFIG=str(kubeconfig)),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        created: dict[str, float] = {}
        completed: dict[str, float] = {}
        seen = threading.Event()

        def observe() -> None:
            for event in kube.watch(objects.RESOURCE, "strongroom", timeout_seconds=120):
                obj = event.object
                name = (obj.get("metadata") or {}).get("name")
                if objects.phase(obj) == objects.COMPLETED and name not in completed:
                    completed[name] = time.perf_counter()
                    if len(completed) == count:
                        seen.set()
                        return

        watcher = threading.Thread(target=observe, daemon=True)
        watcher.start()
        time.sleep(2.0)  # let the contestant start and settle
        started = time.perf_counter()
        for number in range(count):
            body = objects.request(
                namespace="strongroom", backup={"name": "b", "id": "a" * 26, "epoch": 1,
                                                "recipient": ""},
                location="default", pod={"namespace": "shop", "name": f"p{number}", "uid": "u"},
                volume="v", node="sandbox-1", pvc=None,
            )  # fmt: skip
            before = time.perf_counter()
            made = kube.create(objects.RESOURCE, body)  # type: ignore[arg-type]
            created[made["metadata"]["name"]] = before
        seen.wait(60)
        total = time.perf_counter() - started
        rss, cpu = timing.peak_rss_mib(proc.pid), timing.cpu_seconds(proc.pid)
        proc.terminate()
        proc.wait(timeout=30)
        kube.close()
    latencies = sorted(completed[n] - created[n] for n in completed if n in created)
    return {
        "name": name,
        "done": len(latencies),
        "median_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else float("nan"),
        "total_s": total,
        "rss_mib": rss,
        "cpu_s": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--kopf-python", default=None, help="a Python with kopf installed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        own = pathlib.Path(work) / "own_loop.py"
        own.write_text(OWN_LOOP)
        rows = [contest("Strongroom's client: watch, and a list every second",
                        [sys.executable, str(own), "{kubeconfig}"], dict(os.environ),
                        args.count)]  # fmt: skip
        if args.kopf_python:
            operator = pathlib.Path(work) / "operator.py"
            operator.write_text(KOPF_OPERATOR)
            argv = [args.kopf_python, "-m", "kopf", "run", "--standalone", "--all-namespaces",
                    "--quiet", str(operator)]  # fmt: skip
            rows.append(contest("kopf " + kopf_version(args.kopf_python), argv,
                                dict(os.environ), args.count))  # fmt: skip
    print(f"\n{args.count} PodVolumeBackups created one after another; time to their status "
          f"change as a watch sees it; {os.cpu_count()} cores")  # fmt: skip
    print("controller | done | median ms | p95 ms | total s | peak RSS MiB | CPU s")
    print("--- | --- | --- | --- | --- | --- | ---")
    for row in rows:
        print(f"{row['name']} | {row['done']} | {row['median_ms']:.1f} | {row['p95_ms']:.1f} | "
              f"{row['total_s']:.2f} | {row['rss_mib']:.0f} | {row['cpu_s']:.2f}")  # fmt: skip


def kopf_version(python: str) -> str:
    done = subprocess.run([python, "-c", "import kopf; print(kopf.__version__)"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return done.stdout.strip() or "?"


if __name__ == "__main__":
    main()
