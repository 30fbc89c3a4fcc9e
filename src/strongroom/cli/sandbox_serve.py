"""``strongroom sandbox serve``: run the emulated Kubernetes API server until stopped."""

from __future__ import annotations

import pathlib
import signal
import threading
import types

import click

from strongroom.sandbox import nodes, server


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on."
)
@click.option(
    "--kubeconfig-out",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    default=None,
    help="Write a kubeconfig for the sandbox to this file.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default=None,
    help="Keep the cluster in this folder across restarts.",
)
@click.option(
    "--token",
    default=None,
    envvar="STRONGROOM_SANDBOX_TOKEN",
    help="Require this bearer token on every request (and serve HTTPS).",
)
@click.option(
    "--nodes",
    "node_count",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="How many nodes the cluster has.",
)
@click.option(
    "--node-prefix",
    default="sandbox",
    show_default=True,
    help="Nodes are called PREFIX-1 .. PREFIX-N.",
)
def serve(
    port: int,
    host: str,
    kubeconfig_out: pathlib.Path | None,
    state_dir: pathlib.Path | None,
    token: str | None,
    node_count: int,
    node_prefix: str,
) -> None:
    """Serve an emulated Kubernetes API server on a loopback port until SIGTERM or Ctrl-C.

    Objects are stored and served. Pods are scheduled onto the nodes and marked Running once
    their volumes are there; claims get volumes from the default StorageClass (local-path),
    whose data lives in folders under --state-dir (else a temporary folder), seen through each
    node's kubelet folder, STATE/nodes/NODE/kubelet. With --token it serves HTTPS with a
    self-signed certificate, which the written kubeconfig trusts.
    """
    try:
        layout = nodes.Layout(node_count, node_prefix)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--node-prefix") from None
    sandbox = server.Sandbox(host=host, port=port, token=token, state_dir=state_dir, layout=layout)

    def stop(signum: int, frame: types.FrameType | None) -> None:
        del signum, frame
        threading.Thread(target=sandbox.stop, name="sandbox-stop", daemon=True).start()

    def announce() -> None:
        if kubeconfig_out is not None:
            sandbox.write_kubeconfig(kubeconfig_out)
            click.echo(f"kubeconfig: {kubeconfig_out}")
        click.echo(f"serving on {sandbox.url}")

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        sandbox.serve_forever(on_ready=announce)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("stopped")
