"""Volume data: backup, unchanged re-run, a change and a restore, beside restic and borg.

Usage: ``.venv/bin/python bench/volumes.py [--scale 1] [--datasets A,B] [--overhead-repeat 3]
[--workdir DIR] [--keep]``

Two data sets, generated deterministically (seeded) into a temporary folder on the same disk
as the repositories:

- **A**: one 1 GiB file of 4 MiB segments alternating random bytes and log lines (access logs,
  application logs and JSON logs with varying timestamps, addresses, ids and latencies; zstd
  compresses them about 4x);
- **B**: 40,000 files of 1-16 KiB in 200 folders, half random bytes, half log lines.

``--scale 0.1`` shrinks both (A to 26 segments, B to 4,000 files in 20 folders) for a quick run.

Each tool backs up into its own repository on the local disk, with a password or key:

- **Strongroom**: ``strongroom volume backup`` into a filesystem location made by
  ``location create --provider filesystem --recipient <age recipient>`` (throwaway config
  file and ``STRONGROOM_IDENTITY``);
- **restic** (Debian's, 0.14): ``restic init`` (repository version 2: compression ``auto``,
  i.e. zstd), ``restic backup``, ``restic restore latest --target``;
- **borg** (Debian's ``borgbackup``, 1.2): ``borg init --encryption repokey-blake2``,
  ``borg create --compression zstd,3``, ``borg extract`` of the newest archive.

Steps, each tool in turn on the same data: the first backup; an unchanged re-run; a change
(A: 1 % of the file overwritten with random bytes in 16 places; B: 2 % of the files rewritten
and 1 % added) then a backup; the restore of the newest snapshot into an empty folder, then
checked byte for byte against the source (SHA-256 of every file, and the same names: a
difference stops the bench). Every step is a separate process timed for its wall time and
its own peak RSS (GNU time ``%M``; Debian package ``time``). MB/s is the data set's size
(10^6 bytes) over the wall time, for every step. The repository's growth over the change
step is the sum of its files' sizes after minus before. A second table gives each step's CPU
time (user + system, all threads, from GNU time): other work on the machine moves wall times
but hardly CPU times, so it tells a busy machine's noise from a real difference.

The page cache is **not** dropped: every step runs on a warm cache, and all tools see the
same state. Before each backup the data set is read once (so that the first tool does not pay
for the disk); before each restore the tool's repository is read once; dirty pages are
flushed (``sync``) before every timed step, so that no tool pays for an earlier one's writes.
Each tool's caches (restic's, borg's, Strongroom's state) live in the work folder and start
empty. Nothing is deleted until the end (about 15 GB at full scale): on a disk mounted with
``discard``, deleting gigabytes stalls the journal, and the next steps' file creations, for
seconds. The output gives the cost of creating one file in the work folder at the start and
just before each restore (about 20 us on a quiet ext4 disk; far more while other processes
fsync or delete a lot): the restore of B creates 40,000 files.

**Encryption overhead.** Strongroom's first backup is also timed in this process, through the
engine (``strongroom.engine.volumes.backup``), twice: as shipped, and with the AES-256-GCM
of packs and indexes replaced by a copy of the payload plus a 16-byte zero tag (same sizes,
same layout), monkeypatched here only: no production code has a switch for it. Packs written that
way cannot be read, so only the backup is measured, each time into a new throwaway
repository; best of ``--overhead-repeat`` (3) runs of each, alternated. The overhead is
encrypted / unencrypted - 1, in wall time (the target) and in CPU time (this process's, all
threads).

The issue's targets on a 2-core machine: first backup MB/s at least 2x restic's and above
borg's on both data sets; an unchanged re-run no slower than restic's; bytes added by the
change at most 0.5x restic's; restore MB/s at least 2x restic's; peak RSS at most restic's
(every step); encryption overhead at most 10 %. The last section of the output says which
are met.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import math
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections import abc
from typing import Any
from unittest import mock

from volume_data import (
    DATASETS,
    check_restored,
    creation_cost,
    touch_memory,
    tree_digest,
    tree_size,
    warm,
)

from strongroom import clock
from strongroom.crypto import agekeys
from strongroom.crypto.providers.age_x25519 import AgeX25519Provider
from strongroom.engine.volumes import backup as volume_backup
from strongroom.repository import repo
from strongroom.repository.volumes import indexes, packs
from strongroom.storage import factory

BIN = pathlib.Path(sys.executable).parent
GNU_TIME = "/usr/bin/time"  # Debian package "time"
MB = 1e6
MIB = 1 << 20
PASSWORD = "the password of the bench"  # noqa: S105 (a throwaway repository's)

FIRST, UNCHANGED, CHANGED, RESTORE = (
    "first backup",
    "unchanged re-run",
    "backup after change",
    "restore latest",
)
STEPS = (FIRST, UNCHANGED, CHANGED, RESTORE)
TOOLS = ("strongroom", "restic", "borg")


@dataclasses.dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float  # user + system, every thread


def timed(argv: list[str], env: dict[str, str], cwd: pathlib.Path | None = None) -> Run:
    """Run ``argv`` to completion; wall time and its own peak RSS (see bench/backup_restore.py:
    GNU time starts the command from a small process, so the RSS is the command's own)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [GNU_TIME, "-f", "%U %S %M", *argv],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, err = proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed: {err.decode(errors='replace')[-2000:]}")
    user, system, peak_kib = err.decode().strip().splitlines()[-1].split()
    return Run(elapsed, int(peak_kib) / 1024, float(user) + float(system))


def quiet(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed: {done.stderr.decode(errors='replace')}")


# -- tools -----------------------------------------------------------------------------------


class Tool:
    name = ""

    def __init__(self, work: pathlib.Path) -> None:
        self.home = work / self.name
        self.repo = self.home / "repo"
        self.home.mkdir()
        self.env = {
            **os.environ,
            "HOME": str(self.home),
            "XDG_CACHE_HOME": str(self.home / "cache"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_STATE_HOME": str(self.home / "state"),
        }

    def setup(self) -> None:
        raise NotImplementedError

    def warm_up(self) -> None:
        """One untimed command that reads the repository: the first timed step then pays
        for no first start (Python's bytecode compiled, binaries paged in)."""
        raise NotImplementedError

    def backup(self, source: pathlib.Path) -> Run:
        raise NotImplementedError

    def restore(self, source: pathlib.Path, target: pathlib.Path) -> tuple[Run, pathlib.Path]:
        """Restore the newest snapshot into ``target``: the run, and where ``source`` is."""
        raise NotImplementedError

    def stored_bytes(self) -> int:
        return tree_size(self.repo)


class Strongroom(Tool):
    name = "strongroom"

    def setup(self) -> None:
        identity = agekeys.Identity.generate()
        (self.home / "id.txt").write_text(identity.encode() + "\n")
        self.env["STRONGROOM_CONFIG"] = str(self.home / "config.yaml")
        self.env["STRONGROOM_IDENTITY"] = str(self.home / "id.txt")
        self.sr = str(BIN / "strongroom")
        quiet(
            [self.sr, "location", "create", "bench", "--provider", "filesystem",
             "--bucket", str(self.repo), "--recipient", identity.recipient().encode()],
            self.env,
        )  # fmt: skip

    def warm_up(self) -> None:
        quiet([self.sr, "volume", "list", "--storage-location", "bench"], self.env)

    def backup(self, source: pathlib.Path) -> Run:
        argv = [self.sr, "volume", "backup", str(source), "--storage-location", "bench"]
        return timed(argv, self.env)

    def restore(self, source: pathlib.Path, target: pathlib.Path) -> tuple[Run, pathlib.Path]:
        argv = [self.sr, "volume", "restore", "latest", "--target", str(target)]
        return timed([*argv, "--storage-location", "bench"], self.env), target


class Restic(Tool):
    name = "restic"

    def setup(self) -> None:
        self.env["RESTIC_REPOSITORY"] = str(self.repo)
        self.env["RESTIC_PASSWORD"] = PASSWORD
        self.env["RESTIC_CACHE_DIR"] = str(self.home / "cache")
        quiet(["restic", "init"], self.env)

    def warm_up(self) -> None:
        quiet(["restic", "snapshots"], self.env)

    def backup(self, source: pathlib.Path) -> Run:
        return timed(["restic", "backup", str(source)], self.env)

    def restore(self, source: pathlib.Path, target: pathlib.Path) -> tuple[Run, pathlib.Path]:
        run = timed(["restic", "restore", "latest", "--target", str(target)], self.env)
        return run, target / source.relative_to(source.anchor)


class Borg(Tool):
    name = "borg"

    def setup(self) -> None:
        self.env["BORG_PASSPHRASE"] = PASSWORD
        self.env["BORG_BASE_DIR"] = str(self.home / "base")
        self.archives = 0
        quiet(["borg", "init", "--encryption", "repokey-blake2", str(self.repo)], self.env)

    def warm_up(self) -> None:
        quiet(["borg", "list", str(self.repo)], self.env)

    def backup(self, source: pathlib.Path) -> Run:
        self.archives += 1
        archive = f"{self.repo}::s{self.archives}"
        return timed(["borg", "create", "--compression", "zstd,3", archive, str(source)], self.env)

    def restore(self, source: pathlib.Path, target: pathlib.Path) -> tuple[Run, pathlib.Path]:
        target.mkdir()
        run = timed(["borg", "extract", f"{self.repo}::s{self.archives}"], self.env, cwd=target)
        return run, target / source.relative_to(source.anchor)


# -- measuring -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Overhead:
    """Best of the in-process first backups, encrypted and not: wall and CPU seconds."""

    encrypted: float
    plain: float
    encrypted_cpu: float
    plain_cpu: float

    @property
    def wall(self) -> float:
        return self.encrypted / self.plain - 1

    @property
    def cpu(self) -> float:
        return self.encrypted_cpu / self.plain_cpu - 1


@dataclasses.dataclass
class Measured:
    sizes: dict[str, int]  # data set bytes at each step
    runs: dict[tuple[str, str], Run]  # (tool, step)
    first_stored: dict[str, int]  # repository bytes after the first backup
    added: dict[str, int]  # repository bytes added by the change step
    overhead: Overhead | None
    #: Microseconds to create a file in the work folder just before each tool's restore: it
    #: varies with the disk's other work (a journal busy with other processes' fsyncs, or
    #: discarding what was just deleted), which is why the bench deletes nothing until it ends.
    create_us: dict[str, float] = dataclasses.field(default_factory=dict)


def measure(name: str, scale: float, work: pathlib.Path, overhead_repeat: int) -> Measured:
    make, change = DATASETS[name]
    source = work / f"data-{name}"
    source.mkdir()
    started = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(os.cpu_count() or 2) as pool:
        make(source, scale, pool)
    size = tree_size(source)
    say(f"{name}: generated {size / MB:,.0f} MB in {time.perf_counter() - started:.0f}s")
    tools: list[Tool] = [Strongroom(work), Restic(work), Borg(work)]
    for tool in tools:
        tool.setup()
        tool.warm_up()
    found = Measured({FIRST: size, UNCHANGED: size}, {}, {}, {}, None)
    for step in (FIRST, UNCHANGED):
        for tool in tools:
            warm(source)
            touch_memory(work, size)
            found.runs[tool.name, step] = tool.backup(source)
            say(f"{name}: {tool.name} {step}: {found.runs[tool.name, step].seconds:.2f}s")
    for tool in tools:
        found.first_stored[tool.name] = tool.stored_bytes()
    change(source)
    found.sizes[CHANGED] = found.sizes[RESTORE] = tree_size(source)
    for tool in tools:
        before = tool.stored_bytes()
        warm(source)
        touch_memory(work, size)
        found.runs[tool.name, CHANGED] = tool.backup(source)
        found.added[tool.name] = tool.stored_bytes() - before
        say(f"{name}: {tool.name} {CHANGED}: {found.runs[tool.name, CHANGED].seconds:.2f}s")
    expected = tree_digest(source)
    for tool in tools:
        target = work / f"restored-{tool.name}"
        warm(tool.repo)
        found.create_us[tool.name] = creation_cost(work, 500)
        touch_memory(work, size)
        run, restored = tool.restore(source, target)
        check_restored(tool.name, expected, restored)
        found.runs[tool.name, RESTORE] = run
        say(
            f"{name}: {tool.name} {RESTORE}: {run.seconds:.2f}s, identical to the source "
            f"(a file took {found.create_us[tool.name]:.0f} us to create just before)"
        )
    if overhead_repeat:
        found.overhead = encryption_overhead(source, work / "overhead", overhead_repeat)
    return found


class _Unsealed:
    """Stands in for AESGCM to time the pipeline without encryption (this process only):
    the "sealed" form is the payload followed by a 16-byte zero tag, so sizes and layout are
    those of real packs. Nothing written this way can be read back."""

    def __init__(self, key: bytes) -> None:
        del key

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        del nonce, associated_data
        return data + bytes(packs.TAG_SIZE)

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        raise RuntimeError("packs written without encryption are for timing only")


def engine_backup(source: pathlib.Path, folder: pathlib.Path, encrypted: bool) -> Run:
    """One in-process first backup of ``source`` into a new repository: wall and CPU time."""
    backend = factory.open_backend("filesystem", str(folder), "")
    recipient = agekeys.Identity.generate().recipient()
    repository = repo.Repository.create(
        backend, [AgeX25519Provider(recipient)], clock.SystemClock()
    )
    warm(source)
    with contextlib.ExitStack() as patches:
        if not encrypted:
            patches.enter_context(mock.patch.object(packs, "AESGCM", _Unsealed))
            patches.enter_context(mock.patch.object(indexes, "AESGCM", _Unsealed))
        started, cpu = time.perf_counter(), time.process_time()
        volume_backup.backup(repository, str(source))
        return Run(time.perf_counter() - started, math.nan, time.process_time() - cpu)


def encryption_overhead(source: pathlib.Path, folder: pathlib.Path, repeat: int) -> Overhead:
    """Best in-process first backups, encrypted and not, alternated, ``repeat`` times each."""
    encrypted: list[Run] = []
    plain: list[Run] = []
    for number in range(repeat):
        plain.append(engine_backup(source, folder / f"plain-{number}", encrypted=False))
        encrypted.append(engine_backup(source, folder / f"encrypted-{number}", encrypted=True))
        say(
            f"in-process first backup: {encrypted[-1].seconds:.2f}s encrypted, "
            f"{plain[-1].seconds:.2f}s not (CPU {encrypted[-1].cpu_seconds:.2f}s, "
            f"{plain[-1].cpu_seconds:.2f}s)"
        )
    return Overhead(
        encrypted=min(r.seconds for r in encrypted),
        plain=min(r.seconds for r in plain),
        encrypted_cpu=min(r.cpu_seconds for r in encrypted),
        plain_cpu=min(r.cpu_seconds for r in plain),
    )


def say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


# -- report ----------------------------------------------------------------------------------

HEADER = (
    "dataset", "step",
    "strongroom s", "MB/s", "RSS MiB",
    "restic s", "MB/s", "RSS MiB",
    "borg s", "MB/s", "RSS MiB",
    "ratio vs restic", "ratio vs borg",
)  # fmt: skip


def row(*cells: object) -> str:
    return " | ".join(str(c) for c in cells)


def table(results: dict[str, Measured]) -> list[str]:
    lines = [row(*HEADER), row(*("---" for _ in HEADER))]
    for name, found in results.items():
        for step in STEPS:
            cells: list[Any] = [name, step]
            for tool in TOOLS:
                run = found.runs[tool, step]
                rate = found.sizes[step] / MB / run.seconds
                cells += [f"{run.seconds:.2f}", f"{rate:,.0f}", f"{run.peak_rss_mib:.0f}"]
            ours = found.runs["strongroom", step].seconds
            cells += [f"{ours / found.runs[p, step].seconds:.2f}x" for p in ("restic", "borg")]
            lines.append(row(*cells))
        probe = found.create_us
        lines.append(
            row(name, "us to create a file, just before the restore",
                *(c for t in TOOLS for c in (f"{probe[t]:.0f}", "-", "-")), "-", "-")
        )  # fmt: skip
        for label, stored in (
            ("repository MB after the first backup", found.first_stored),
            ("repository MB added by the change", found.added),
        ):
            cells = [name, label]
            for tool in TOOLS:
                cells += [f"{stored[tool] / MB:,.1f}", "-", "-"]
            cells += [
                f"{stored['strongroom'] / max(stored[p], 1):.2f}x" for p in ("restic", "borg")
            ]
            lines.append(row(*cells))
        if found.overhead is not None:
            lines += overhead_rows(name, found.sizes[FIRST], found.overhead)
    return lines


def overhead_rows(name: str, size: int, overhead: Overhead) -> list[str]:
    note = "in-process engine, backup only"
    blank = ["-"] * 9
    return [
        row(name, f"first backup, encrypted ({note})", f"{overhead.encrypted:.2f}",
            f"{size / MB / overhead.encrypted:,.0f}", *blank),
        row(name, f"first backup, AES-GCM replaced by a copy ({note}; not restorable)",
            f"{overhead.plain:.2f}", f"{size / MB / overhead.plain:,.0f}", *blank),
        row(name, "encryption overhead (wall; CPU)",
            f"{overhead.wall * 100:+.1f} %; {overhead.cpu * 100:+.1f} %", "-", *blank),
    ]  # fmt: skip


def cpu_table(results: dict[str, Measured]) -> list[str]:
    """CPU seconds (user + system, every thread) of each step: what other load does not move."""
    header = ("dataset", "step", *(f"{tool} CPU s" for tool in TOOLS), "ratio vs restic",
              "ratio vs borg")  # fmt: skip
    lines = [row(*header), row(*("---" for _ in header))]
    for name, found in results.items():
        for step in STEPS:
            cpu = {tool: found.runs[tool, step].cpu_seconds for tool in TOOLS}
            ratios = [f"{cpu['strongroom'] / max(cpu[p], 0.01):.2f}x" for p in ("restic", "borg")]
            lines.append(row(name, step, *(f"{cpu[t]:.2f}" for t in TOOLS), *ratios))
    return lines


def targets(results: dict[str, Measured]) -> list[str]:
    def seconds(found: Measured, tool: str, step: str) -> float:
        return found.runs[tool, step].seconds

    checks: list[tuple[str, list[tuple[str, bool, str]]]] = []

    def each(label: str, test: abc.Callable[[Measured], tuple[bool, str]]) -> None:
        checks.append((label, [(name, *test(found)) for name, found in results.items()]))

    def faster(step: str, peer: str, factor: float) -> abc.Callable[[Measured], tuple[bool, str]]:
        def test(found: Measured) -> tuple[bool, str]:
            speedup = seconds(found, peer, step) / seconds(found, "strongroom", step)
            ok = speedup >= factor if factor > 1 else speedup > factor
            return ok, f"{speedup:.2f}x {peer}'s MB/s"

        return test

    each("first backup MB/s >= 2x restic's", faster(FIRST, "restic", 2.0))
    each("first backup MB/s above borg's", faster(FIRST, "borg", 1.0))

    def unchanged(found: Measured) -> tuple[bool, str]:
        ours, theirs = seconds(found, "strongroom", UNCHANGED), seconds(found, "restic", UNCHANGED)
        return ours <= theirs, f"{ours:.2f}s vs {theirs:.2f}s"

    each("unchanged re-run wall time <= restic's", unchanged)

    def added(found: Measured) -> tuple[bool, str]:
        ratio = found.added["strongroom"] / max(found.added["restic"], 1)
        return ratio <= 0.5, f"{ratio:.2f}x restic's bytes"

    each("bytes added by the change <= 0.5x restic's", added)
    each("restore MB/s >= 2x restic's", faster(RESTORE, "restic", 2.0))

    def rss(found: Measured) -> tuple[bool, str]:
        worst = max(
            STEPS,
            key=lambda s: (
                found.runs["strongroom", s].peak_rss_mib / found.runs["restic", s].peak_rss_mib
            ),
        )
        ours = found.runs["strongroom", worst].peak_rss_mib
        theirs = found.runs["restic", worst].peak_rss_mib
        return ours <= theirs, f"worst step {worst}: {ours:.0f} vs {theirs:.0f} MiB"

    each("peak RSS <= restic's (every step)", rss)

    def overhead(found: Measured) -> tuple[bool, str]:
        if found.overhead is None:
            return False, "not measured"
        wall, cpu = found.overhead.wall, found.overhead.cpu
        return wall <= 0.10, f"{wall * 100:+.1f} % wall time, {cpu * 100:+.1f} % CPU time"

    each("encryption overhead <= 10 %", overhead)
    lines = []
    for label, outcomes in checks:
        verdict = "met" if all(ok for _, ok, _ in outcomes) else "NOT MET"
        detail = "; ".join(
            f"{name}: {'ok' if ok else 'miss'}, {text}" for name, ok, text in outcomes
        )
        lines.append(f"- {label}: **{verdict}** ({detail})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="shrink (or grow) both data sets")
    parser.add_argument("--datasets", default="A,B", help="which data sets: A, B or A,B")
    parser.add_argument(
        "--overhead-repeat",
        type=int,
        default=3,
        help="in-process runs of each kind for the encryption overhead (0: skip it)",
    )
    parser.add_argument(
        "--workdir",
        type=pathlib.Path,
        default=None,
        help="where to make the work folder (default: the system's temporary folder)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder, print where")
    args = parser.parse_args()
    names = [n.strip().upper() for n in args.datasets.split(",") if n.strip()]
    if not names or any(n not in DATASETS for n in names):
        parser.error(f"--datasets: a list of {', '.join(DATASETS)}")
    for command in (GNU_TIME, "restic", "borg", str(BIN / "strongroom")):
        if shutil.which(command) is None:
            raise SystemExit(f"{command} is missing: make debian-packages (and make install)")
    load = os.getloadavg()[0]
    if load > 0.5:
        say(f"the load average is {load:.1f}: other work running now skews every number")
    results: dict[str, Measured] = {}
    work = pathlib.Path(tempfile.mkdtemp(prefix="strongroom-bench-volumes-", dir=args.workdir))
    create_us = creation_cost(work)
    say(f"work folder {work}: creating a file there takes {create_us:.0f} us")
    try:
        for name in names:
            folder = work / name
            folder.mkdir()
            results[name] = measure(name, args.scale, folder, args.overhead_repeat)
    finally:
        if args.keep:
            say(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"scale {args.scale:g}; {os.cpu_count()} cores; load average {load:.1f} at the start; "
        f"{create_us:.0f} us to create a file in the work folder; "
        "warm page cache; MB = 10^6 bytes; ratios are Strongroom's time (or bytes) over the "
        "peer's: below 1 is better"
    )
    print("\n".join(table(results)))
    print()
    print("\n".join(cpu_table(results)))
    print()
    print("targets:")
    print("\n".join(targets(results)))


if __name__ == "__main__":
    main()
