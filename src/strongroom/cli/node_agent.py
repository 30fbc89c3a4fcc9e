"""``strongroom node-agent``: back up the volumes of this node's pods for backups that ask."""

from __future__ import annotations

import logging
import pathlib
import signal
import threading
import types

import click

from strongroom import errors
from strongroom.cli import flags, session
from strongroom.engine.podvolumes import agent as nodeagent
from strongroom.engine.podvolumes import objects
from strongroom.engine.volumes import inbackup


@click.command("node-agent")
@click.option("--node-name", required=True, envvar="NODE_NAME", help="The node this agent runs on.")
@click.option(
    "--kubelet-root",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default=pathlib.Path("/var/lib/kubelet"),
    show_default=True,
    help="The kubelet's folder on this node (as the agent's pod mounts it).",
)
@click.option(
    "--namespace",
    default=objects.DEFAULT_NAMESPACE,
    show_default=True,
    help="Where PodVolumeBackups are created.",
)
@flags.writer_credential(
    "The writer credential the agent stores volume data with ('key add --writer-output'); "
    "it decrypts nothing.",
    required=True,
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Volumes backed up at once (each within a fixed memory budget, about 100 MiB).",
)
def node_agent(
    node_name: str,
    kubelet_root: pathlib.Path,
    namespace: str,
    writer_credential: pathlib.Path,
    concurrency: int,
) -> None:
    """Run this node's agent until SIGTERM or Ctrl-C: take the PodVolumeBackups of pods on
    NODE, back up their volumes from the kubelet's folder into the backups that asked, as a
    writer that cannot read what it stores, and report in each object's status.

    A PodVolumeBackup found InProgress at start (an agent killed while on it) is marked
    Failed. Locations come from the configuration file, as for every command.
    """
    if not kubelet_root.is_dir():
        raise errors.NotFoundError(f"{kubelet_root}: no such folder (--kubelet-root)")
    opened: dict[str, inbackup.Source] = {}
    lock = threading.Lock()
    ctx = click.get_current_context()  # the settings, for the workers' threads

    def target(location: str) -> inbackup.Source:
        with lock, ctx.scope(cleanup=False):
            if location not in opened:
                opened[location] = session.open_writer(location, writer_credential)
            return opened[location]

    target_check = session.open_writer(None, writer_credential)  # fails now, not per volume
    target_check.volume_keys()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with session.kube() as kube:
        agent = nodeagent.Agent(kube, node_name, kubelet_root, target, namespace=namespace,
                                concurrency=concurrency)  # fmt: skip

        def stop(signum: int, frame: types.FrameType | None) -> None:
            del signum, frame
            agent.stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            click.echo(f"node agent for {node_name}: watching {namespace}", err=True)
            agent.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    click.echo("stopped", err=True)
