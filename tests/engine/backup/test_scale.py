"""Memory stays bounded by pages and keys, not by the objects: 5k against 20k config maps.

The objects are seeded straight into the sandbox's store (``create_internal``): creating 25k
objects through the API one request at a time would take minutes, and only the backup's
reading side is measured here. The backup itself runs end to end: sandbox API server over
HTTP, collector, archive writer, age encryption, filesystem repository.
"""

from __future__ import annotations

import time
import tracemalloc

from strongroom import clock
from strongroom.engine.backup import runner, spec
from strongroom.kube import client
from strongroom.repository import repo
from strongroom.sandbox import server

BODY = "x" * 2000  # 2 kB per object: 30 MB more of JSON for the larger run, more decoded
NAMESPACES = 4
PAGE = 200


def seed(sandbox: server.Sandbox, prefix: str, count: int) -> None:
    """``count`` config maps spread over NAMESPACES namespaces ``<prefix>-<n>``."""
    cluster = sandbox.cluster
    for n in range(NAMESPACES):
        cluster.create_internal(
            ("", "v1", "namespaces"),
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{prefix}-{n}"}},
        )
    for i in range(count):
        meta = {"name": f"cm-{i:06d}", "namespace": f"{prefix}-{i % NAMESPACES}"}
        cluster.create_internal(
            ("", "v1", "configmaps"),
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"p": BODY}},
        )


def traced_backup(
    kube: client.Client, repository: repo.Repository, prefix: str
) -> tuple[runner.Outcome, int, float]:
    the_spec = spec.BackupSpec(prefix, included_namespaces=(f"{prefix}-*",))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome = runner.run(
            kube, repository, the_spec, clock=clock.SystemClock(), list_page_size=PAGE
        )
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, peak, elapsed


def test_peak_memory_does_not_grow_with_the_objects(
    sandbox: server.Sandbox, kube: client.Client, repository: repo.Repository
) -> None:
    seed(sandbox, "small", 5_000)
    seed(sandbox, "large", 20_000)
    kube.discovery.snapshot()
    small, small_peak, _ = traced_backup(kube, repository, "small")
    large, large_peak, elapsed = traced_backup(kube, repository, "large")
    # every config map; per namespace its kube-root-ca.crt, default service account and the
    # Namespace object
    assert (small.phase, small.items) == ("Completed", 5_000 + 3 * NAMESPACES)
    assert (large.phase, large.items) == ("Completed", 20_000 + 3 * NAMESPACES)
    growth = large_peak - small_peak
    per_item = growth / 15_000
    print(
        f"\n20k objects: {large.items / elapsed:,.0f} items/s under tracemalloc; "
        f"peak {small_peak / 1e6:.1f} MB (5k), {large_peak / 1e6:.1f} MB (20k); "
        f"{per_item:.0f} bytes per extra item"
    )
    # 15k more objects of more than 2 kB each: holding their bodies would add over 30 MB.
    # What may grow is the keys (names for de-duplication and the resource list).
    assert per_item < 500, f"peak grew by {growth / 1e6:.1f} MB for 15k more objects"
    assert large_peak < 30e6
