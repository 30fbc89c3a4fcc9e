"""Archive throughput: write and read 50k ConfigMap-sized objects, beside ``tar | zstd -3``.

Usage: ``.venv/bin/python bench/archive_throughput.py [--items N] [--size BYTES]``

Prints one table: items/s and MB/s (of tar) for the Strongroom writer and reader, and the
stored size of the same objects as a padded Strongroom archive and as ``tar | zstd -3`` of the
same files written to a temporary folder.
"""

from __future__ import annotations

import argparse
import base64
import json
import pathlib
import random
import subprocess
import tempfile
import time

from strongroom.archive import layout, reader, writer

WORDS = [
    "server",
    "port",
    "host",
    "timeout",
    "replicas",
    "image",
    "tag",
    "enabled",
    "log",
    "level",
    "cache",
    "size",
    "worker",
    "queue",
    "retry",
    "backoff",
    "endpoint",
    "region",
    "bucket",
    "true",
    "false",
    "debug",
    "info",
    "warn",
    "error",
]


def make_items(count: int, size: int, seed: int = 7) -> list[writer.Item]:
    """ConfigMaps with config-file text, one in ten a Secret with base64 data."""
    rng = random.Random(seed)
    items = []
    for i in range(count):
        namespace = f"team-{i % 40}"
        name = f"app-{i}-config"
        metadata: dict[str, object] = {
            "name": name,
            "namespace": namespace,
            "uid": f"{rng.getrandbits(128):032x}",
            "resourceVersion": str(rng.randrange(10**6, 10**7)),
            "labels": {"app": f"app-{i % 300}", "tier": rng.choice(["web", "db", "cache"])},
        }
        if i % 10 == 0:
            data = {"password": base64.b64encode(rng.randbytes(size // 8)).decode()}
            body = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "data": data}
            resource = "secrets"
        else:
            lines = (
                f"{rng.choice(WORDS)}: {rng.choice(WORDS)}{rng.randrange(100)}"
                for _ in range(size // 16)
            )
            body = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": metadata,
                "data": {"app.yaml": "\n".join(lines)},
            }
            resource = "configmaps"
        raw = json.dumps(body, separators=(",", ":")).encode()
        items.append(writer.Item(resource, namespace, name, raw, i % 10 == 0))
    return items


def stock_size(items: list[writer.Item]) -> tuple[int, float]:
    """Bytes and seconds of ``tar -c | zstd -3`` over the same files in Velero's layout."""
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "metadata").mkdir()
        (root / layout.VERSION_PATH).write_bytes(layout.version_body())
        for item in items:
            path = root / layout.item_path(item.group_resource, item.namespace, item.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(item.body)
        start = time.perf_counter()
        out = subprocess.run(
            "tar -c metadata resources | zstd -3 -q -c | wc -c",
            shell=True,
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout), time.perf_counter() - start


def measure(label: str, items: list[writer.Item], stock_bytes: int) -> None:
    archive_writer = writer.ArchiveWriter(level=3)
    start = time.perf_counter()
    data = b"".join(archive_writer.iter_bytes(items))
    write_s = time.perf_counter() - start
    stats = archive_writer.stats
    pieces = [data[i : i + (1 << 16)] for i in range(0, len(data), 1 << 16)]
    start = time.perf_counter()
    count = sum(1 for _ in reader.iter_items(pieces))
    read_s = time.perf_counter() - start
    assert count == len(items) + 1
    mb = stats.bytes_in / 1e6
    unpadded = len(data) - stats.padding
    for op, secs in (("write", write_s), ("read", read_s)):
        print(
            f"{label + ' ' + op:34} {len(items) / secs:10,.0f} {mb / secs:8.1f} {secs:8.2f} "
            f"{stats.frames:7} {unpadded / 1e6:9.2f} {len(data) / 1e6:9.2f} "
            f"{len(data) / stock_bytes:7.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=1500, help="approximate data bytes per item")
    args = parser.parse_args()
    interleaved = make_items(args.items, args.size)
    grouped = sorted(interleaved, key=lambda i: i.secret)
    body_bytes = sum(len(i.body) for i in interleaved)
    stock_bytes, stock_s = stock_size(interleaved)
    print(f"{len(interleaved)} items ({body_bytes / 1e6:.1f} MB of JSON), one in ten a Secret")
    print(
        f"{'':34} {'items/s':>10} {'MB/s':>8} {'seconds':>8} {'frames':>7} "
        f"{'zstd MB':>9} {'stored MB':>9} {'ratio':>7}"
    )
    measure("grouped by kind:", grouped, stock_bytes)
    measure("Secrets interleaved:", interleaved, stock_bytes)
    print(
        f"{'tar -c | zstd -3 of the files':34} {len(interleaved) / stock_s:10,.0f} "
        f"{'':8} {stock_s:8.2f} {'':7} {stock_bytes / 1e6:9.2f} {stock_bytes / 1e6:9.2f} "
        f"{1:7.3f}"
    )
    print("MB/s counts tar bytes; ratio = stored bytes / tar | zstd -3 bytes.")


if __name__ == "__main__":
    main()
