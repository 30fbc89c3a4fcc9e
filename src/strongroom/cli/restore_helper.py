"""``strongroom restore-helper``: the init container that holds a restored pod until its
volumes are back (docs/node-agent.md, "Restores")."""

from __future__ import annotations

import pathlib
import time

import click

from strongroom.engine.podvolumes import restores


@click.command("restore-helper")
@click.option("--marker", required=True, help="The restore's marker name.")
@click.option(
    "--interval", type=click.FloatRange(0.05, 60), default=1.0, show_default=True, hidden=True
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=pathlib.Path))
def restore_helper(marker: str, interval: float, paths: tuple[pathlib.Path, ...]) -> None:
    """Wait until every PATH (a volume's mount in this pod) holds .strongroom/MARKER, which
    the node agent writes once it has restored that volume; then end, so the pod's own
    containers start on restored data."""
    waiting = list(paths)
    while waiting:
        for path in list(waiting):
            if (path / restores.MARKER_DIR / marker).exists():
                click.echo(f"{path}: restored")
                waiting.remove(path)
        if waiting:
            time.sleep(interval)
