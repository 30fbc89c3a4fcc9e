"""``strongroom version``: the client's version and, unless ``--client-only``, the cluster's."""

from __future__ import annotations

from typing import Any

import click

import strongroom
from strongroom.cli import context, output
from strongroom.kube import client as kube_client


@click.command()
@click.option("--client-only", is_flag=True, help="Do not contact the cluster.")
@context.output_option
def version(client_only: bool) -> None:
    """Print the client version and the Kubernetes server version (like 'velero version')."""
    settings = context.settings()
    document: dict[str, Any] = {"clientVersion": {"version": strongroom.__version__}}
    if not client_only:
        with kube_client.Client.from_kubeconfig(
            settings.kubeconfig, settings.kube_context, qps=5.0, burst=5
        ) as kube:
            server = kube.server_version()
        document["serverVersion"] = {
            "gitVersion": str(server.get("gitVersion", "")),
            "server": kube.cluster.server,
        }
    if settings.output is not context.OutputFormat.TABLE:
        output.emit_documents([document], as_list=False, columns=(), rows=())
        return
    pairs = [("Client", strongroom.__version__)]
    if "serverVersion" in document:
        pairs.append(
            ("Server", f"{document['serverVersion']['gitVersion']} at {kube.cluster.server}")
        )
    output.emit_fields(pairs)
