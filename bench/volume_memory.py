"""Peak memory of volume backups as the data grows, beside restic: is it bounded by design?

Usage: ``.venv/bin/python bench/volume_memory.py [--files 50000,200000] [--big-gib 1,4]``

Two series, each run as separate processes timed by GNU time (``%M``, peak RSS):

- many small files (1-4 KiB of random bytes, 500 per folder): the first backup of each count;
- one big file of random bytes (a sparse-free file of N GiB, written once per size).

For each point, Strongroom (``strongroom volume backup`` into a fresh filesystem location) and
restic 0.14 (``restic backup`` into a fresh repository). Memory that stays flat as the count
grows is bounded by design; what grows is printed per file or per GiB. The data is on the same
disk and in the page cache for both tools (each data set is read once before the runs).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import random
import subprocess
import sys
import tempfile

BIN = pathlib.Path(sys.executable).parent
GNU_TIME = "/usr/bin/time"


def peak(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command, which must succeed."""
    import time

    started = time.perf_counter()
    done = subprocess.run([GNU_TIME, "-f", "%M", *argv], env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 3):
        raise SystemExit(f"{argv[0]} failed: {done.stderr.decode(errors='replace')[-1500:]}")
    return elapsed, int(done.stderr.decode().strip().splitlines()[-1]) / 1024


def small_files(root: pathlib.Path, count: int) -> None:
    rng = random.Random(count)
    for i in range(count):
        folder = root / f"d{i // 500:05d}"
        if i % 500 == 0:
            folder.mkdir(parents=True)
        (folder / f"f{i:07d}").write_bytes(rng.randbytes(rng.randint(1024, 4096)))


def big_file(root: pathlib.Path, gib: int) -> None:
    root.mkdir(parents=True)
    rng = random.Random(gib)
    block = 64 << 20
    with (root / "big.bin").open("wb") as f:
        for _ in range(gib * (1 << 30) // block):
            f.write(rng.randbytes(block))


def warm(root: pathlib.Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                while f.read(1 << 24):
                    pass


def run_point(work: pathlib.Path, data: pathlib.Path, env: dict[str, str]) -> tuple[float, ...]:
    warm(data)
    config = work / "config.yaml"
    identity = work / "id.txt"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    recipient = subprocess.run(
        ["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True
    ).stdout.strip()
    ours = {**env, "STRONGROOM_CONFIG": str(config), "STRONGROOM_IDENTITY": str(identity)}
    subprocess.run(
        [str(BIN / "strongroom"), "location", "create", "m", "--provider", "filesystem",
         "--bucket", str(work / "repo"), "--recipient", recipient],
        env=ours, check=True, capture_output=True,
    )  # fmt: skip
    s_time, s_rss = peak([str(BIN / "strongroom"), "volume", "backup", str(data)], ours)
    restic = {**env, "RESTIC_PASSWORD": "bench", "RESTIC_REPOSITORY": str(work / "restic")}
    subprocess.run(["restic", "init"], env=restic, check=True, capture_output=True)
    r_time, r_rss = peak(["restic", "backup", "--quiet", str(data)], restic)
    return s_time, s_rss, r_time, r_rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", default="50000,200000")
    parser.add_argument("--big-gib", default="1,4")
    args = parser.parse_args()
    env = dict(os.environ)
    rows = []
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-memory-", dir="/var/tmp") as tmp:
        base = pathlib.Path(tmp)
        for count in [int(c) for c in args.files.split(",") if c]:
            point = base / f"files-{count}"
            small_files(point / "data", count)
            rows.append((f"{count:,} small files", *run_point(point, point / "data", env)))
            subprocess.run(["rm", "-rf", str(point)], check=True)
        for gib in [int(g) for g in args.big_gib.split(",") if g and int(g) > 0]:
            point = base / f"big-{gib}"
            big_file(point / "data", gib)
            rows.append((f"one {gib} GiB file", *run_point(point, point / "data", env)))
            subprocess.run(["rm", "-rf", str(point)], check=True)
    print("data | strongroom s | RSS MiB | restic s | RSS MiB | RSS ratio")
    print("--- | --- | --- | --- | --- | ---")
    for name, s_time, s_rss, r_time, r_rss in rows:
        ratio = s_rss / r_rss
        print(f"{name} | {s_time:.1f} | {s_rss:.0f} | {r_time:.1f} | {r_rss:.0f} | {ratio:.2f}x")


if __name__ == "__main__":
    main()
