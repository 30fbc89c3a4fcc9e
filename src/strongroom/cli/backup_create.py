"""``strongroom backup create``: back up what the flags select, encrypted, to a location."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from strongroom import clock, errors
from strongroom.cli import (
    backup_view,
    config,
    context,
    flags,
    heads,
    progress,
    session,
    volume_view,
)
from strongroom.engine.backup import durations, runner
from strongroom.engine.backup import spec as backup_spec
from strongroom.engine.podvolumes import objects as podobjects
from strongroom.repository import repo as repo_mod


class PartiallyFailed(errors.StrongroomError):
    exit_code = errors.ExitCode.PARTIALLY_FAILED


class BackupFailed(errors.StrongroomError):
    pass


class _Items:
    """Adapts the CLI's progress reporter to the engine's Progress port."""

    def __init__(self, reporter: progress.Reporter) -> None:
        self._reporter = reporter

    def update(self, items: int, resource: str) -> None:
        self._reporter.update(items, None, resource)

    def volumes(self, done: int, total: int, read: int) -> None:
        self._reporter.update(done, total, f"pod volumes, {volume_view.size(read)} read")


@click.command()
@click.argument("name")
@click.option("--ttl", default="720h", help="How long to keep the backup (Go duration).")
@flags.writer_credential(
    "Back up as a registered writer, which can decrypt nothing ('key add --writer-output')."
)
@click.option(
    "--default-volumes-to-fs-backup",
    is_flag=True,
    default=False,
    help="Back up every pod volume (claims and emptyDirs) through the node agents, except "
    "those a pod names in backup.velero.io/backup-volumes-excludes.",
)
@click.option(
    "--fs-backup-timeout",
    default="4h",
    show_default=True,
    help="How long to wait for the node agents (Go duration).",
)
@click.option(
    "--node-agent-namespace",
    default=podobjects.DEFAULT_NAMESPACE,
    show_default=True,
    help="Where the node agents take PodVolumeBackups from.",
)
@flags.selection
@flags.scoped_resources
@flags.backup_metadata
@context.output_option
def create(name: str, **opts: Any) -> None:
    """Back up the cluster (or what the flags select) as backup NAME.

    In standalone mode the backup runs here and the command returns when it is stored;
    --wait adds progress on the way.
    """
    config.check_name("backup", name)
    settings = context.settings()
    location = config.load(settings.config_path).location(opts["storage_location"]).name
    volumes = runner.Volumes(
        namespace=opts["node_agent_namespace"],
        timeout=durations.parse(opts["fs_backup_timeout"], "--fs-backup-timeout").total_seconds(),
    )
    spec = backup_spec.BackupSpec.with_ttl_text(
        name,
        opts["ttl"],
        storage_location=location,
        default_volumes_to_fs_backup=opts["default_volumes_to_fs_backup"],
        **flags.selection_fields(opts),
        **flags.backup_fields(opts),
    )
    repo: repo_mod.Repository | None = None
    target: runner.BackupTarget
    if opts["writer_credential"] is not None:
        target = session.open_writer(location, opts["writer_credential"])
    else:
        _, repo = session.open_repository(location)
        heads.require_clean(repo)
        target = repo
    reporter = progress.Reporter(f"Backing up {name}", enabled=opts["wait"])
    with session.kube() as kube, reporter as bar:
        items = _Items(bar)
        volumes = dataclasses.replace(volumes, progress=items.volumes)
        outcome = runner.run(
            kube, target, spec, clock=clock.SystemClock(), progress=items, volumes=volumes
        )
    if repo is not None:
        heads.check(repo)
    if settings.output is not context.OutputFormat.TABLE and repo is not None:
        backup_view.emit([repo.backup(name)], location, as_list=False)
    else:
        click.echo(
            f'Backup "{name}" {outcome.phase}: {outcome.items} items, '
            f"{outcome.warnings} warnings, {outcome.errors} errors."
        )
    if outcome.phase == "PartiallyFailed":
        raise PartiallyFailed(
            f"backup {name} partially failed: see 'strongroom backup describe {name}'"
        )
    if outcome.phase == "Failed":
        reason = outcome.failure_reason or "see 'strongroom backup logs'"
        raise BackupFailed(f"backup {name} failed: {reason}")
