"""Seed COUNT configmaps into a sandbox in its own process, then run list_clients against it.

Run: python tests/kube/bench/list_sandbox.py [COUNT]
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path

from strongroom.kube import client, errors

HERE = Path(__file__).parent
SERVE = """
import pathlib, sys, time
from strongroom.sandbox import server
sb = server.Sandbox().start()
sb.write_kubeconfig(pathlib.Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.read()
sb.stop()
"""


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(kubeconfig)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdout.readline()
        try:
            kube = client.Client.from_kubeconfig(kubeconfig, qps=0)
            for n in range(10):
                with contextlib.suppress(errors.AlreadyExists):
                    kube.create("namespaces", {"metadata": {"name": f"ns-{n}"}})
            t0 = time.perf_counter()

            def make(i: int) -> None:
                kube.create(
                    "configmaps",
                    {
                        "metadata": {
                            "name": f"cm-{i:06d}",
                            "namespace": f"ns-{i % 10}",
                            "labels": {"app": f"app-{i % 20}", "index": str(i)},
                            "annotations": {"note": "x" * 120},
                        },
                        "data": {"config.yaml": "key: value\n" * 40, "other": "y" * 200},
                    },
                )

            with futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(make, range(count)))
            print(f"seeded {count} configmaps in {time.perf_counter() - t0:.1f}s", flush=True)
            url = kube.cluster.server
            kube.close()
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "list_clients.py"),
                    str(count),
                    "--url",
                    url,
                    "--kubeconfig",
                    str(kubeconfig),
                ],
                check=False,
                env=dict(os.environ),
            )
        finally:
            proc.stdin.close()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
