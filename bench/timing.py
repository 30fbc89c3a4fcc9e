"""Timing helpers shared by the benchmarks (imported as ``timing`` from ``bench/``)."""

from __future__ import annotations

import os
import pathlib
import time
from collections.abc import Callable


def best(run: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` runs of ``run``, in seconds."""
    fastest = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def peak_rss_mib(pid: int) -> float:
    """A running process's peak resident set (``VmHWM``), in MiB."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """A running process's CPU time so far (user + system), in seconds."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
