"""List COUNT configmaps (pages of 500) through each candidate client and report wall time.

Run: python tests/kube/bench/list_clients.py [COUNT] [--url URL --kubeconfig F]
Without --url it starts static_server.py (pre-serialised pages) in a subprocess, so the
numbers measure the client side. Each variant ends with a list of raw item dicts or the
library's own objects, as noted in its name.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
PATH = "/api/v1/configmaps"


def kubeconfig(url: str, directory: str) -> str:
    path = os.path.join(directory, "config")
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "b", "cluster": {"server": url}}],
        "users": [{"name": "b", "user": {"token": "bench"}}],
        "contexts": [{"name": "b", "context": {"cluster": "b", "user": "b"}}],
        "current-context": "b",
    }
    Path(path).write_text(yaml.safe_dump(doc))
    return path


def v_kubectl(url: str, cfg: str) -> int:
    kubectl = str(Path(sys.executable).parent / "kubectl")
    with tempfile.TemporaryDirectory() as cache:
        out = subprocess.run(
            [
                kubectl,
                "--kubeconfig",
                cfg,
                "--cache-dir",
                cache,
                "get",
                "configmaps",
                "-A",
                "-o",
                "json",
                "--chunk-size=500",
            ],
            check=True,
            capture_output=True,
        ).stdout
    return len(json.loads(out)["items"])


def v_urllib3_raw(url: str, cfg: str) -> int:
    import urllib3

    pool = urllib3.PoolManager()
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        resp = pool.request("GET", f"{url}{PATH}?limit=500&continue={token}")
        body = json.loads(resp.data)
        items.extend(body["items"])
        token = body["metadata"].get("continue", "")
        if not token:
            return len(items)


def v_kubernetes_raw(url: str, cfg: str) -> int:
    from kubernetes import client

    conf = client.Configuration(host=url)
    api = client.ApiClient(conf)
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        resp = api.call_api(
            "GET",
            f"{url}{PATH}?limit=500&continue={token}",
            header_params={"Accept": "application/json"},
        )
        body = json.loads(resp.read())
        items.extend(body["items"])
        token = body["metadata"].get("continue", "")
        if not token:
            return len(items)


def v_kubernetes_typed(url: str, cfg: str) -> int:
    from kubernetes import client

    api = client.CoreV1Api(client.ApiClient(client.Configuration(host=url)))
    n, token = 0, None
    while True:
        page = api.list_config_map_for_all_namespaces(limit=500, _continue=token)
        n += len(page.items)
        token = (
            page.metadata.var_continue
            if hasattr(page.metadata, "var_continue")
            else page.metadata._continue
        )
        if not token:
            return n


def v_kubernetes_dynamic(url: str, cfg: str) -> int:
    from kubernetes import client, dynamic

    dyn = dynamic.DynamicClient(client.ApiClient(client.Configuration(host=url)))
    res = dyn.resources.get(api_version="v1", kind="ConfigMap")
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = res.get(limit=500, _continue=token)
        items.extend(i.to_dict() for i in page.items)
        token = page.metadata.get("continue")
        if not token:
            return len(items)


def v_kubernetes_asyncio_raw(url: str, cfg: str) -> int:
    from kubernetes_asyncio import client

    async def run() -> int:
        async with client.ApiClient(client.Configuration(host=url)) as api:
            items: list[dict[str, Any]] = []
            token = ""
            while True:
                resp = await api.call_api(
                    PATH,
                    "GET",
                    query_params=[("limit", 500), ("continue", token)],
                    _preload_content=False,
                )
                body = json.loads(await resp.read())
                items.extend(body["items"])
                token = body["metadata"].get("continue", "")
                if not token:
                    return len(items)

    return asyncio.run(run())


def v_lightkube_lazy_models(url: str, cfg: str) -> int:
    from lightkube import Client, KubeConfig
    from lightkube.resources.core_v1 import ConfigMap

    c = Client(KubeConfig.from_file(cfg))
    return sum(1 for _ in c.list(ConfigMap, namespace="*", chunk_size=500))


def v_lightkube_eager_dicts(url: str, cfg: str) -> int:
    from lightkube import Client, KubeConfig
    from lightkube.resources.core_v1 import ConfigMap

    c = Client(KubeConfig.from_file(cfg), lazy=False)
    return len([o.to_dict() for o in c.list(ConfigMap, namespace="*", chunk_size=500)])


def v_strongroom(url: str, cfg: str) -> int:
    from strongroom.kube import client

    with client.Client.from_kubeconfig(cfg, qps=0) as kube:
        return sum(len(page.items) for page in kube.list_pages("configmaps", limit=500))


# lightkube's generic resources cannot stand for a built-in kind (its registry refuses a second
# ConfigMap class), so built-ins come back as its model classes only.


def v_kr8s_raw(url: str, cfg: str) -> int:
    import kr8s

    api = kr8s.api(kubeconfig=cfg)
    items = kr8s.get("configmaps", namespace=kr8s.ALL, raw=True, api=api)
    return len(list(items))


def v_kr8s_objects(url: str, cfg: str) -> int:
    import kr8s

    api = kr8s.api(kubeconfig=cfg)
    return len(list(kr8s.get("configmaps", namespace=kr8s.ALL, api=api)))


VARIANTS: dict[str, Callable[[str, str], int]] = {
    k[2:]: v for k, v in sorted(globals().items()) if k.startswith("v_") and callable(v)
}


def main() -> None:
    args = sys.argv[1:]
    count = int(args[0]) if args and not args[0].startswith("-") else 10_000
    only = os.environ.get("ONLY", "").split(",") if os.environ.get("ONLY") else None
    url = args[args.index("--url") + 1] if "--url" in args else None
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        if url is None:
            import socket

            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            proc = subprocess.Popen(
                [sys.executable, str(HERE / "static_server.py"), str(port), str(count)],
                stdout=subprocess.PIPE,
            )
            assert proc.stdout is not None
            proc.stdout.readline()
            url = f"http://127.0.0.1:{port}"
        cfg = (
            args[args.index("--kubeconfig") + 1] if "--kubeconfig" in args else kubeconfig(url, tmp)
        )
        try:
            for name, fn in VARIANTS.items():
                if only and name not in only:
                    continue
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    n = fn(url, cfg)
                    times.append(time.perf_counter() - t0)
                    if n < count:
                        raise SystemExit(f"{name}: got {n} items, expected {count}")
                best = min(times)
                print(
                    f"{name:24s} best {best:6.2f}s  {count / best:8.0f} obj/s  "
                    f"runs {' '.join(f'{t:.2f}' for t in times)}",
                    flush=True,
                )
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait()


if __name__ == "__main__":
    main()
