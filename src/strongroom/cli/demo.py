"""``strongroom demo``: the whole job on embedded defaults, with no cluster and no cloud.

It starts two sandbox clusters on loopback ports, deploys a sample shop into the first (with
a database: a StatefulSet whose replicas keep rows in their own volumes), backs it up
encrypted into a local folder under a freshly generated offline recovery key (the volumes
through node agents that cannot read what they store), searches every stored byte for the
shop's database password and rows to show nothing leaked, restores the backup into the
second cluster under another namespace, and checks that what arrived is what left, rows
included, byte for byte. Everything lives in a temporary folder removed at the end (unless
``--keep``).
"""

from __future__ import annotations

import base64
import pathlib
import secrets
import shutil
import tempfile
import time
from typing import Any, cast

import click

from strongroom import clock, errors
from strongroom.cli import demo_app, demo_db, output
from strongroom.crypto import agekeys
from strongroom.crypto.providers import base as provider_base
from strongroom.crypto.providers.age_x25519 import AgeX25519Provider
from strongroom.engine.backup import runner
from strongroom.engine.backup import spec as backup_spec
from strongroom.engine.restore import restorer
from strongroom.engine.restore import spec as restore_spec
from strongroom.kube import bodies
from strongroom.kube import client as kube_client
from strongroom.repository import repo
from strongroom.sandbox import server
from strongroom.storage import factory

NAMESPACE = "shop"
TARGET = "shop-restored"
COMPARED = (
    "configmaps",
    "secrets",
    "services",
    "deployments.apps",
    "statefulsets.apps",
    f"coupons.{demo_app.GROUP}",
)


class DemoFailed(errors.StrongroomError):
    pass


def _resource_name(obj: dict[str, Any]) -> str:
    group = obj["apiVersion"].rpartition("/")[0]
    return f"{obj['kind']}.{group}" if group else obj["kind"]


def seed(kube: kube_client.Client, namespace: str, db_password: str) -> int:
    """Deploy the sample application; returns how many objects were created."""
    crd = demo_app.crd()
    kube.create("customresourcedefinitions.apiextensions.k8s.io", cast(bodies.KubeObject, crd))
    kube.wait_for_condition(
        "customresourcedefinitions.apiextensions.k8s.io", crd["metadata"]["name"]
    )
    kube.discovery.refresh()
    kube.create(
        "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    )
    items = demo_app.objects(namespace, db_password)
    for obj in items:
        kube.create(_resource_name(obj), cast(bodies.KubeObject, obj))
    return len(items) + 2


def _contents(kube: kube_client.Client, namespace: str) -> dict[str, Any]:
    """What the shop is made of, without what a cluster assigns (uids, IPs, times)."""
    found: dict[str, Any] = {}
    for resource in COMPARED:
        for obj in kube.list(resource, namespace):
            name = obj["metadata"]["name"]
            if name == "kube-root-ca.crt":
                continue
            body: dict[str, Any] = dict(obj)
            spec: dict[str, Any] = body.get("spec") or {}
            assigned = ("clusterIP", "clusterIPs", "ports")
            found[f"{resource}/{name}"] = body.get("data") or {
                k: v for k, v in spec.items() if k not in assigned
            }
    return found


def _leaks(folder: pathlib.Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes() + str(path.relative_to(folder)).encode()
        hits += [f"{path.relative_to(folder)}" for n in needles if n in data]
    return hits


@click.command()
@click.option(
    "--keep", is_flag=True, help="Keep the demo folder (clusters, backups, recovery key)."
)
def demo(keep: bool) -> None:
    """Back up a sample app from one sandbox cluster and restore it into another, encrypted."""
    started = time.monotonic()
    work = pathlib.Path(tempfile.mkdtemp(prefix="strongroom-demo-"))
    try:
        _run(work)
    finally:
        if keep:
            click.echo(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    click.echo(f"Done in {time.monotonic() - started:.1f}s.")


def _say(step: int, text: str) -> None:
    click.echo(f"{step}. {text}")


def _run(work: pathlib.Path) -> None:
    now = clock.SystemClock()
    password = "demo-" + secrets.token_urlsafe(18)
    with server.Sandbox() as source, server.Sandbox() as target:
        a = kube_client.Client.from_kubeconfig(source.write_kubeconfig(work / "source.kubeconfig"))
        b = kube_client.Client.from_kubeconfig(target.write_kubeconfig(work / "target.kubeconfig"))
        with a, b:
            _say(1, f"Two sandbox clusters: source {source.url}, target {target.url}")
            created = seed(a, NAMESPACE, password)
            for kube in (a, b):
                demo_db.install(kube)
            rows = demo_db.deploy(a, source, NAMESPACE)
            _say(
                2, f"Deployed a sample shop into '{NAMESPACE}': {created} objects, a CRD among "
                f"them, and a database of {demo_db.REPLICAS} replicas with rows in their volumes"
            )  # fmt: skip
            recovery = _back_up(a, source, work, password, now)
            _restore(b, target, work, recovery, now, rows)
            if _contents(a, NAMESPACE) != _contents(b, TARGET):
                raise DemoFailed("the restored shop differs from the original")


def _back_up(
    kube: kube_client.Client,
    sandbox: server.Sandbox,
    work: pathlib.Path,
    password: str,
    now: clock.Clock,
) -> agekeys.Identity:
    recovery = agekeys.Identity.generate()
    (work / "recovery.txt").write_text(f"# offline recovery key\n{recovery.encode()}\n")
    folder = work / "backups"
    backend = factory.open_backend("filesystem", str(folder))
    repository = repo.Repository.create(backend, [AgeX25519Provider(recovery.recipient())], now)
    _say(3, f"Encrypted repository {repository.id} in {folder},")
    click.echo(f"   offline recovery key {recovery.recipient()}")
    spec = backup_spec.BackupSpec(
        "shop-nightly", included_namespaces=(NAMESPACE,), storage_location="demo"
    )
    with demo_db.agents(kube, sandbox, repository):
        made = runner.run(kube, repository, spec, clock=now, volumes=runner.Volumes(timeout=60))
    if made.phase != "Completed":
        raise DemoFailed(f"backup 'shop-nightly' {made.phase}")
    stored = [p for p in folder.rglob("*") if p.is_file()]
    volumes = len(made.manifest.status.get("volumeSnapshots") or [])
    _say(4, f"Backup 'shop-nightly' {made.phase}: {made.items} items and {volumes} volumes "
         f"(through the node agents, as writers that cannot read them), {len(stored)} objects "
         "stored")  # fmt: skip
    encoded = base64.b64encode(password.encode())  # the form the API server keeps it in
    needles = [password.encode(), encoded, b"shop-db", b"shop-nightly", b"WELCOME10",
               b"order-shop-db-0-"]  # fmt: skip
    leaks = _leaks(folder, needles)
    if leaks:
        raise DemoFailed(f"plaintext found at rest in {leaks[0]}")
    _say(5, "Searched every stored byte and object name: no password, no names, no plaintext")
    return recovery


def _restore(
    b: kube_client.Client,
    sandbox: server.Sandbox,
    work: pathlib.Path,
    recovery: agekeys.Identity,
    now: clock.Clock,
    rows: dict[str, bytes],
) -> None:
    backend = factory.open_backend("filesystem", str(work / "backups"))
    opened = repo.Repository.open(backend, provider_base.Credentials(identities=(recovery,)), now)
    plan = restore_spec.RestoreSpec(
        "shop-move", "shop-nightly", namespace_mappings={NAMESPACE: TARGET}
    )
    with demo_db.agents(b, sandbox, opened):
        restored = restorer.run(b, opened, plan, clock=now, volumes=restorer.Volumes(timeout=60))
    counts = ", ".join(f"{v} {k}" for k, v in restored.counts.items() if v)
    _say(6, f"Restored with the recovery key as '{TARGET}': {restored.phase} ({counts})")
    if restored.phase != "Completed":
        raise DemoFailed(f"restore 'shop-move' {restored.phase}: {restored.errors}")
    after = _contents(b, TARGET)
    if demo_db.rows(b, sandbox, TARGET) != rows:
        raise DemoFailed("the database's rows differ from the original's")
    _say(
        7,
        f"Verified: the {len(after)} objects in '{TARGET}' match, Secret values included, and "
        "the database's rows, byte for byte, in new volumes on the target's nodes",
    )
    output.emit_table(("resource", "restored"), sorted(_count(after).items()))


def _count(contents: dict[str, Any]) -> dict[str, str]:
    counts: dict[str, int] = {}
    for key in contents:
        resource = key.split("/")[0]
        counts[resource] = counts.get(resource, 0) + 1
    return {k: str(v) for k, v in counts.items()}
