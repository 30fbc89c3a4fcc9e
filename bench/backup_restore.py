"""Backup and restore of 1k, 10k and 50k objects, beside kubectl doing the same job in plaintext.

Usage: ``.venv/bin/python bench/backup_restore.py [--counts 1000,10000,50000]``

For each count, two sandbox clusters run as separate processes (``strongroom sandbox serve``).
The source is seeded with ConfigMaps and Secrets of realistic sizes (0.5-4 KiB, one in five a
Secret) plus one Deployment per 200 objects, spread over ten namespaces. Then, each as its own
process, timed with its peak RSS (``wait4``):

- ``kubectl get configmaps,secrets,deployments -A -o json`` into a file: the plaintext dump;
- ``strongroom backup create`` of the same namespaces and resources: encrypted, into a folder;
- ``kubectl create -f`` of the dump into an empty cluster: the plaintext restore;
- ``strongroom restore create`` into another empty cluster.

One table, with the ratio of Strongroom to kubectl per step. Needs GNU time (Debian ``time``)
for the peak RSS. The targets: backup within 1.5x of the dump, restore at most 1.0x
``kubectl create -f``, and a peak RSS that stays flat as the count grows.

Strongroom runs with the CLI's defaults, its client-side rate limit included
(``--client-qps 500 --client-burst 1000``: a restore of N objects makes about N requests, so
it takes at least (N - 1000) / 500 seconds), while kubectl does not throttle at these rates.
``--client-qps Q`` runs both Strongroom commands with ``--client-qps Q --client-burst Q``
instead, to measure what the limit hides.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import contextlib
import dataclasses
import json
import os
import pathlib
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from strongroom.crypto import agekeys
from strongroom.kube import client as kube_client

BIN = pathlib.Path(sys.executable).parent
NAMESPACES = [f"bench-{i}" for i in range(10)]
GNU_TIME = "/usr/bin/time"  # Debian package "time"
RESOURCES = "configmaps,secrets,deployments"


@dataclasses.dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mib: float


def timed(argv: list[str], env: dict[str, str], stdout: Any = subprocess.DEVNULL) -> Run:
    """Run ``argv`` to completion; wall time and its own peak RSS.

    The RSS comes from GNU time, which starts the command from a small process: ``wait4``
    on a child forked from this (large) process would report this process's RSS at fork.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(
        [GNU_TIME, "-f", "%M", *argv], env=env, stdout=stdout, stderr=subprocess.PIPE
    )
    _, err = proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {err.decode(errors='replace')[-2000:]}")
    peak_kib = int(err.decode().strip().splitlines()[-1])
    return Run(elapsed, peak_kib / 1024)


@contextlib.contextmanager
def sandbox(work: pathlib.Path, name: str) -> Iterator[pathlib.Path]:
    kubeconfig = work / f"{name}.kubeconfig"
    proc = subprocess.Popen(
        [str(BIN / "strongroom"), "sandbox", "serve", "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        while b"serving on" not in proc.stdout.readline():
            if proc.poll() is not None:
                raise SystemExit("the sandbox did not start")
        yield kubeconfig
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _text(rng: random.Random, size: int) -> str:
    words = ["server", "port", "timeout", "replicas", "image", "enabled", "level", "cache", "retry"]
    out: list[str] = []
    while sum(len(w) + 1 for w in out) < size:
        out.append(f"{rng.choice(words)}={rng.randint(0, 99999)}")
    return "\n".join(out)


def objects(count: int, seed: int = 7) -> Iterator[tuple[str, dict[str, Any]]]:
    rng = random.Random(seed)
    for i in range(count):
        ns = NAMESPACES[i % len(NAMESPACES)]
        meta = {"name": f"obj-{i}", "namespace": ns, "labels": {"app": f"app-{i % 37}"}}
        if i % 200 == 199:
            labels = {"app": f"app-{i}"}
            spec = {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
                },
            }
            yield (
                "deployments.apps",
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec},
            )
        elif i % 5 == 0:
            value = base64.b64encode(rng.randbytes(rng.randint(256, 2048))).decode()
            yield (
                "secrets",
                {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": {"key": value}},
            )
        else:
            data = {"app.conf": _text(rng, rng.randint(512, 4096))}
            yield (
                "configmaps",
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data},
            )


def seed(kubeconfig: pathlib.Path, count: int) -> None:
    with kube_client.Client.from_kubeconfig(kubeconfig, qps=100000, burst=100000) as kube:
        for ns in NAMESPACES:
            kube.create(
                "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
            )
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for future in [pool.submit(kube.create, r, o) for r, o in objects(count)]:
                future.result()


def measure(count: int, work: pathlib.Path, client: list[str]) -> dict[str, Run]:
    env = {**os.environ, "STRONGROOM_CONFIG": str(work / "config.yaml")}
    identity = agekeys.Identity.generate()
    (work / "id.txt").write_text(identity.encode() + "\n")
    env["STRONGROOM_IDENTITY"] = str(work / "id.txt")
    sr, kubectl = str(BIN / "strongroom"), str(BIN / "kubectl")
    location = ["--provider", "filesystem", "--bucket", str(work / "repo")]
    recipient = ["--recipient", identity.recipient().encode()]
    create = [sr, "location", "create", "bench", *location, *recipient]
    subprocess.run(create, env=env, check=True, capture_output=True)
    found: dict[str, Run] = {}
    with sandbox(work, "source") as source:
        seed(source, count)
        dump = work / "dump.json"
        with dump.open("wb") as out:
            found["kubectl get -o json"] = timed(
                [kubectl, "--kubeconfig", str(source), "get", RESOURCES, "-A", "-o", "json"],
                env,
                out,
            )
        found["strongroom backup"] = timed(
            [sr, "--kubeconfig", str(source), *client, "backup", "create", f"b{count}",
             "--include-namespaces", ",".join(NAMESPACES), "--include-resources", RESOURCES],
            env,
        )  # fmt: skip
    _strip_for_create(dump)
    with sandbox(work, "plain") as plain:
        _namespaces(plain)
        # --validate=false skips kubectl's schema check of the List: that only helps kubectl.
        found["kubectl create -f"] = timed(
            [kubectl, "--kubeconfig", str(plain), "create", "--validate=false", "-f", str(dump)],
            env,
        )
    with sandbox(work, "target") as target:
        restore = ["restore", "create", f"r{count}", "--from-backup", f"b{count}"]
        found["strongroom restore"] = timed(
            [sr, "--kubeconfig", str(target), *client, *restore], env
        )
    return found


def _strip_for_create(dump: pathlib.Path) -> None:
    """What kubectl needs to create the dumped objects anew: no server-set metadata, and
    not the objects every namespace gets by itself."""
    doc = json.loads(dump.read_bytes())
    doc["items"] = [
        i
        for i in doc["items"]
        if i["metadata"].get("namespace") in NAMESPACES
        and i["metadata"]["name"] != "kube-root-ca.crt"
    ]
    for item in doc["items"]:
        for key in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
            item["metadata"].pop(key, None)
        item.pop("status", None)
    dump.write_text(json.dumps(doc))


def _namespaces(kubeconfig: pathlib.Path) -> None:
    with kube_client.Client.from_kubeconfig(kubeconfig) as kube:
        for ns in NAMESPACES:
            kube.create(
                "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="1000,10000,50000")
    parser.add_argument(
        "--client-qps",
        type=float,
        help="run Strongroom with --client-qps and --client-burst of this (default: the CLI's)",
    )
    args = parser.parse_args()
    client: list[str] = []
    if args.client_qps:
        client = [
            "--client-qps",
            f"{args.client_qps:g}",
            "--client-burst",
            f"{args.client_qps:.0f}",
        ]
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    rows = []
    for count in (int(c) for c in args.counts.split(",")):
        with tempfile.TemporaryDirectory(prefix="strongroom-bench-") as tmp:
            runs = measure(count, pathlib.Path(tmp), client)
        for ours, peer in (
            ("strongroom backup", "kubectl get -o json"),
            ("strongroom restore", "kubectl create -f"),
        ):
            a, b = runs[ours], runs[peer]
            rows.append((count, ours, a, peer, b))
            print(
                f"... {count} objects: {ours} {a.seconds:.2f}s vs {peer} {b.seconds:.2f}s",
                file=sys.stderr,
            )
    header = (
        "objects",
        "step",
        "s",
        "obj/s",
        "RSS MiB",
        "peer",
        "s",
        "obj/s",
        "RSS MiB",
        "time ratio",
    )
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for count, ours, a, peer, b in rows:
        left = (
            f"{count} | {ours} | {a.seconds:.2f} | {count / a.seconds:,.0f} | {a.peak_rss_mib:.0f}"
        )
        right = f"{peer} | {b.seconds:.2f} | {count / b.seconds:,.0f} | {b.peak_rss_mib:.0f}"
        print(f"{left} | {right} | {a.seconds / b.seconds:.2f}x")


if __name__ == "__main__":
    main()
