"""The data sets of ``bench/volumes.py``: generated, changed, measured and compared.

A: one file of 4 MiB segments alternating random bytes and log lines; B: small files of 1 to
16 KiB in folders, half random, half log lines. Everything is derived from fixed labels, so
every run (and every tool) sees the same bytes.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import pathlib
import random
import shutil
import time
from collections import abc

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MIB = 1 << 20
SEGMENT = 4 * MIB
SEED = 20260101


def random_bytes(size: int, *label: object) -> bytes:
    """``size`` bytes that look random, the same for the same label (AES-256-CTR of zeros)."""
    key = hashlib.sha256(repr((SEED, *label)).encode()).digest()
    encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
    return encryptor.update(bytes(size)) + encryptor.finalize()


SERVICES = (
    "api-gateway",
    "auth",
    "billing",
    "catalog",
    "checkout",
    "inventory",
    "search",
    "worker",
)
PATHS = (
    "/api/v1/orders",
    "/api/v1/orders/{id}",
    "/api/v1/users/{id}",
    "/api/v1/cart",
    "/healthz",
    "/api/v2/search",
    "/static/app.{id}.js",
    "/api/v1/payments/{id}/capture",
    "/metrics",
)
METHODS = ("GET",) * 6 + ("POST",) * 3 + ("PUT", "DELETE")
STATUSES = (200, 200, 200, 200, 201, 204, 301, 304, 404, 500)
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "curl/8.5.0",
    "kube-probe/1.30",
    "Go-http-client/2.0",
    "python-requests/2.32.3",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1",
)
MESSAGES = (
    "request completed",
    "cache miss for key {key}",
    "retrying upstream call attempt={n}",
    "connection reset by peer",
    "slow query took {ms}ms: SELECT * FROM orders WHERE customer_id = {id}",
    "user {id} logged in from {ip}",
    "token expired for session {key}",
    "queue depth {n} above threshold",
    "flushed {n} records to disk",
    "GC pause {ms}ms",
    "payment {key} authorised amount={n}.{cents} EUR",
)
LEVELS = ("INFO",) * 12 + ("DEBUG",) * 5 + ("WARN",) * 2 + ("ERROR",)


def log_text(size: int, *label: object) -> bytes:
    """``size`` bytes of log lines (three formats, every field varying), the same per label."""
    rng = random.Random(repr((SEED, *label)))
    when = 1.7e9 + rng.randrange(10**7)
    below, ch, stamp_of = rng.randrange, rng.choice, time.gmtime
    lines: list[str] = []
    total = 0
    second, stamp = -1, ""
    while total < size:
        when += rng.random() * 0.05
        if int(when) != second:
            second = int(when)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", stamp_of(second))
        ms = int((when - second) * 1000)
        kind = below(3)
        if kind == 0:
            ip = f"10.{below(256)}.{below(256)}.{below(1, 255)}"
            path = ch(PATHS).replace("{id}", str(below(1, 10**6)))
            line = (
                f'{ip} - - [{stamp}.{ms:03d}Z] "{ch(METHODS)} {path} HTTP/1.1" {ch(STATUSES)} '
                f'{below(80, 60000)} "-" "{ch(AGENTS)}" rt={below(1, 2500) / 1000:.3f}\n'
            )
        elif kind == 1:
            message = ch(MESSAGES).format(
                key=f"{rng.getrandbits(64):016x}",
                n=below(1, 5000),
                cents=below(100),
                ms=below(1, 4000),
                id=below(1, 10**6),
                ip=f"192.168.{below(256)}.{below(256)}",
            )
            line = (
                f"{stamp}.{ms:03d}Z {ch(LEVELS):5} [{ch(SERVICES)}] {message} "
                f"trace_id={rng.getrandbits(128):032x}\n"
            )
        else:
            message = ch(MESSAGES).split(" {")[0]
            line = (
                f'{{"ts":"{stamp}.{ms:03d}Z","level":"{ch(LEVELS).lower()}",'
                f'"svc":"{ch(SERVICES)}","msg":"{message}","latency_ms":{below(1, 900)},'
                f'"req":"{rng.getrandbits(32):08x}"}}\n'
            )
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()[:size]


def _segment(index: int) -> bytes:
    if index % 2 == 0:
        return random_bytes(SEGMENT, "A", index)
    return log_text(SEGMENT, "A", index)


def make_a(root: pathlib.Path, scale: float, pool: concurrent.futures.Executor) -> None:
    """Data set A: one file of 4 MiB segments, random bytes and log lines alternating."""
    segments = max(2, round(256 * scale))
    with (root / "big.img").open("wb") as out:
        for data in pool.map(_segment, range(segments)):
            out.write(data)


def _small_file(folder: pathlib.Path, index: int, *label: object) -> None:
    rng = random.Random(repr((SEED, "B-size", *label)))
    size = rng.randint(1024, 16 * 1024)
    if index % 2 == 0:
        (folder / f"f{index:05d}.bin").write_bytes(random_bytes(size, "B", *label))
    else:
        (folder / f"f{index:05d}.log").write_bytes(log_text(size, "B", *label))


def _folder(root: pathlib.Path, number: int, first: int, count: int) -> None:
    folder = root / f"d{number:03d}"
    folder.mkdir()
    for index in range(first, first + count):
        _small_file(folder, index, index)


def make_b(root: pathlib.Path, scale: float, pool: concurrent.futures.Executor) -> None:
    """Data set B: small files in folders, half random bytes, half log lines."""
    files = max(2, round(40_000 * scale))
    folders = max(1, round(200 * scale))
    per = -(-files // folders)
    jobs = [
        pool.submit(_folder, root, n, n * per, min(per, files - n * per))
        for n in range(folders)
        if n * per < files
    ]
    for job in jobs:
        job.result()


def change_a(root: pathlib.Path) -> None:
    """1 % of the big file overwritten with random bytes, in 16 places."""
    path = root / "big.img"
    size = path.stat().st_size
    piece = size // 100 // 16
    region = size // 16
    rng = random.Random(repr((SEED, "change-A")))
    with path.open("r+b") as out:
        for place in range(16):
            out.seek(place * region + rng.randrange(region - piece))
            out.write(random_bytes(piece, "change-A", place))


def change_b(root: pathlib.Path) -> None:
    """2 % of the files rewritten (new content, new size), 1 % added."""
    rng = random.Random(repr((SEED, "change-B")))
    files = sorted(p for p in root.rglob("*") if p.is_file())
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    for path in rng.sample(files, max(1, len(files) * 2 // 100)):
        index = int(path.stem[1:])
        path.unlink()
        _small_file(path.parent, index, index, "rewritten")
    for added in range(max(1, len(files) // 100)):
        index = len(files) + added
        _small_file(rng.choice(folders), index, index, "added")


DATASETS: dict[str, tuple[abc.Callable[..., None], abc.Callable[[pathlib.Path], None]]] = {
    "A": (make_a, change_a),
    "B": (make_b, change_b),
}


def tree_size(root: pathlib.Path) -> int:
    return sum(
        os.lstat(os.path.join(top, name)).st_size
        for top, _, names in os.walk(root)
        for name in names
    )


def tree_digest(root: pathlib.Path) -> dict[str, str]:
    """Every entry under ``root``: folders, symlinks' targets and files' SHA-256."""
    found: dict[str, str] = {}
    for top, dirs, names in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(top, name), root)] = "folder"
        for name in names:
            path = os.path.join(top, name)
            if os.path.islink(path):
                found[os.path.relpath(path, root)] = "-> " + os.readlink(path)
                continue
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
            found[os.path.relpath(path, root)] = digest
    return found


def check_restored(tool: str, expected: dict[str, str], restored: pathlib.Path) -> None:
    """Stops the bench, naming the differences, unless ``restored`` is the source."""
    got = tree_digest(restored)
    if got == expected:
        return
    missing = sorted(expected.keys() - got.keys())
    extra = sorted(got.keys() - expected.keys())
    wrong = sorted(k for k in expected.keys() & got.keys() if expected[k] != got[k])
    raise SystemExit(
        f"{tool}: the restored tree {restored} differs from the source: "
        f"{len(missing)} missing {missing[:3]}, {len(extra)} extra {extra[:3]}, "
        f"{len(wrong)} with other content {wrong[:3]}"
    )


def creation_cost(folder: pathlib.Path, count: int = 2000) -> float:
    """Microseconds to create (and close) one empty file in a new folder under ``folder``.

    Restores of data set B create 40,000 files: where that costs far more than the usual
    20 us or so (a temporary folder some other software watches, say), every tool's restore
    slows by the same seconds, and ``--workdir`` should point elsewhere on the same disk.
    """
    probe = folder / "creation-probe"
    probe.mkdir()
    started = time.perf_counter()
    for number in range(count):
        os.close(os.open(probe / f"f{number}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    seconds = time.perf_counter() - started
    shutil.rmtree(probe)
    return seconds / count * 1e6


def touch_memory(folder: pathlib.Path, size: int) -> None:
    """Write ``size`` bytes into a file under ``folder``, then delete it.

    In a virtual machine, the first write to memory the guest has not used lately makes the
    host back it, page by page: writing 1 GiB into tmpfs (or the page cache) took 1-3 s of
    system time here on fresh pages and 0.35 s on pages just freed. Whichever tool runs first
    after others have written would pay for it. Touching as much as the step will write,
    just before each timed step, gives every tool the same recently used pages.
    """
    block = bytes(MIB)
    probe = folder / "memory-probe"
    with open(probe, "wb", buffering=0) as handle:
        for _ in range(0, size, MIB):
            handle.write(block)
    probe.unlink()


def warm(root: pathlib.Path) -> None:
    """Read every file under ``root`` once (page cache), then flush dirty pages."""
    buffer = bytearray(MIB)
    for top, _, names in os.walk(root):
        for name in names:
            path = os.path.join(top, name)
            if os.path.islink(path):
                continue
            with open(path, "rb", buffering=0) as handle:
                while handle.readinto(buffer):
                    pass
    os.sync()
