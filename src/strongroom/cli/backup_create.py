"""``strongroom backup create``: back up what the flags select, encrypted, to a location."""

from __future__ import annotations

from typing import Any

import click

from strongroom import clock, errors
from strongroom.cli import backup_view, config, context, flags, heads, progress, session
from strongroom.engine.backup import runner
from strongroom.engine.backup import spec as backup_spec


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


@click.command()
@click.argument("name")
@click.option("--ttl", default="720h", help="How long to keep the backup (Go duration).")
@flags.selection
@context.output_option
def create(name: str, **opts: Any) -> None:
    """Back up the cluster (or what the flags select) as backup NAME.

    In standalone mode the backup runs here and the command returns when it is stored;
    --wait adds progress on the way.
    """
    config.check_name("backup", name)
    loc, repo = session.open_repository(opts["storage_location"])
    heads.require_clean(repo)
    spec = backup_spec.BackupSpec.with_ttl_text(
        name, opts["ttl"], storage_location=loc.name, **flags.selection_fields(opts)
    )
    with (
        session.kube() as kube,
        progress.Reporter(f"Backing up {name}", enabled=opts["wait"]) as bar,
    ):
        outcome = runner.run(kube, repo, spec, clock=clock.SystemClock(), progress=_Items(bar))
    heads.check(repo)
    if context.settings().output is not context.OutputFormat.TABLE:
        backup_view.emit([repo.backup(name)], loc.name, as_list=False)
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
