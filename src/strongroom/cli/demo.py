"""``strongroom demo``: Strongroom end to end on embedded defaults, with no cluster or cloud.

It starts a sandbox cluster on a loopback port, deploys a sample shop into it through the
Kubernetes API, creates a storage location in a local folder, and surveys the application the
way a backup of its namespace will collect it. Everything lives in a temporary folder that is
removed at the end (unless ``--keep``).
"""

from __future__ import annotations

import collections
import pathlib
import secrets
import shutil
import tempfile
import time
from typing import Any, cast

import click

from strongroom.cli import config, demo_app, output
from strongroom.kube import bodies
from strongroom.kube import client as kube_client
from strongroom.sandbox import server
from strongroom.storage import factory

NAMESPACE = "shop"


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


def survey(kube: kube_client.Client, namespace: str) -> collections.Counter[str]:
    """Objects per resource in ``namespace``, over every served, listable resource."""
    counts: collections.Counter[str] = collections.Counter()
    for res in kube.discovery.resources():
        if res.namespaced and res.supports("list"):
            counts[res.group_resource] += sum(1 for _ in kube.list(res, namespace))
    return +counts


@click.command()
@click.option("--keep", is_flag=True, help="Keep the demo folder (cluster state and location).")
def demo(keep: bool) -> None:
    """Run Strongroom on a sandbox cluster and a local folder: no cluster or cloud needed."""
    started = time.monotonic()
    work = pathlib.Path(tempfile.mkdtemp(prefix="strongroom-demo-"))
    try:
        _run(work)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            click.echo(f"Kept {work}")
    click.echo(f"Done in {time.monotonic() - started:.1f}s.")


def _run(work: pathlib.Path) -> None:
    with server.Sandbox(state_dir=work / "cluster") as cluster:
        kubeconfig = cluster.write_kubeconfig(work / "kubeconfig")
        click.echo(f"1. Sandbox cluster serving at {cluster.url} (kubeconfig {kubeconfig})")
        with kube_client.Client.from_kubeconfig(kubeconfig) as kube:
            created = seed(kube, NAMESPACE, secrets.token_urlsafe(18))
            click.echo(f"2. Deployed the sample shop: {created} objects, a CRD among them")
            folder = work / "backups"
            cfg = config.Config(path=work / "config.yaml").with_location(
                config.Location("demo", "filesystem", str(folder)), make_default=True
            )
            factory.probe(factory.open_backend("filesystem", str(folder)))
            config.save(cfg)
            click.echo(f"3. Storage location 'demo' on the folder {folder}")
            counts = survey(kube, NAMESPACE)
            total = sum(counts.values())
            click.echo(f"4. A backup of namespace '{NAMESPACE}' collects {total} objects:")
            output.emit_table(
                ("resource", "objects"), [(k, str(v)) for k, v in sorted(counts.items())]
            )
