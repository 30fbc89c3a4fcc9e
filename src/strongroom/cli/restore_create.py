"""``strongroom restore create``: bring a backup back, into this or another cluster."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import click

from strongroom import clock, errors
from strongroom.cli import (
    config,
    context,
    flags,
    output,
    progress,
    restore_source,
    session,
    volume_view,
)
from strongroom.engine.backup import durations
from strongroom.engine.podvolumes import objects as podobjects
from strongroom.engine.podvolumes import restores
from strongroom.engine.restore import modifiers, restorer
from strongroom.engine.restore import spec as restore_spec


class PartiallyFailed(errors.StrongroomError):
    exit_code = errors.ExitCode.PARTIALLY_FAILED


class RestoreFailed(errors.StrongroomError):
    pass


def _modifiers(file: pathlib.Path | None, configmap: str | None) -> dict[str, Any]:
    """The resource modifiers the flags name (spec fields), read and parsed up front."""
    if file is not None and configmap is not None:
        raise errors.UsageError("give --resource-modifier-file or --resource-modifier-configmap")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise errors.UsageError(f"--resource-modifier-file {file}: unreadable") from exc
        where = str(file)
    elif configmap is not None:
        namespace, _, name = configmap.rpartition("/")
        with session.kube() as kube:
            found = kube.get("configmaps", name, namespace or "default")
        data = found.get("data") or {}
        if len(data) != 1:
            raise errors.UsageError(
                f"ConfigMap {configmap}: resource modifiers need exactly one data key"
            )
        text, where = str(next(iter(data.values()))), f"ConfigMap {configmap}"
    else:
        return {}
    return {"resource_modifiers": modifiers.parse(text, where), "resource_modifiers_source": where}


def _default_name(backup: str) -> str:
    return f"{backup}-{clock.SystemClock().now().strftime('%Y%m%d%H%M%S')}"[:63].strip("-")


@click.command()
@click.argument("name", required=False)
@click.option("--from-backup", "backup_name", default=None, help="The backup to restore.")
@click.option(
    "--from-schedule",
    "schedule_name",
    default=None,
    metavar="SCHEDULE",
    help="Restore the newest Completed, unexpired backup labelled "
    "strongroom.io/schedule-name=SCHEDULE, in every location (or --storage-location).",
)
@click.option(
    "--allow-partially-failed",
    is_flag=True,
    help="With --from-schedule, the newest Completed or PartiallyFailed backup. Refused "
    "without --from-schedule (Velero ignores it there).",
)
@click.option("--namespace-mappings", default="", help="Restore namespace a as b: a:b,c:d.")
@click.option(
    "--existing-resource-policy",
    type=click.Choice(["none", "update"]),
    default="none",
    help="What to do with objects that already exist and differ.",
)
@click.option("--preserve-nodeports", is_flag=True, help="Keep the node ports of services.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option(
    "--status-include-resources",
    default="",
    metavar="RESOURCES",
    help="Resources whose .status is restored too (resource.group, '*' for all).",
)
@click.option(
    "--status-exclude-resources",
    default="",
    metavar="RESOURCES",
    help="Resources whose .status is not restored.",
)
@click.option(
    "--resource-modifier-file",
    default=None,
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Velero resource modifier rules (YAML) that patch objects as they are restored.",
)
@click.option(
    "--resource-modifier-configmap",
    default=None,
    metavar="[NAMESPACE/]NAME",
    help="The same rules from a ConfigMap of the target cluster (one data key).",
)
@click.option(
    "--storage-class-mappings",
    default="",
    help="Restore claims and volumes of storage class old as new: old:new,a:b.",
)
@click.option(
    "--fs-restore-timeout",
    default="4h",
    show_default=True,
    help="How long to wait for the node agents to restore pod volumes (Go duration).",
)
@click.option(
    "--node-agent-namespace",
    default=podobjects.DEFAULT_NAMESPACE,
    show_default=True,
    help="Where the node agents take PodVolumeRestores from.",
)
@click.option(
    "--restore-helper-image",
    default=restores.DEFAULT_IMAGE,
    show_default=True,
    help="The image of the init container that holds a pod until its volumes are restored.",
)
@flags.selection
@context.output_option
def create(name: str | None, **opts: Any) -> None:
    """Restore backup --from-backup, or the newest backup of --from-schedule, as restore NAME
    (default: BACKUP-<timestamp> or SCHEDULE-<timestamp>)."""
    schedule = opts["schedule_name"]
    restore_source.check_flags(opts["backup_name"], schedule, opts["allow_partially_failed"])
    source = opts["backup_name"] if schedule is None else schedule  # exactly one was given
    name = name or _default_name(source)
    config.check_name("restore", name)
    dry_run = bool(opts["dry_run"])
    # With --from-schedule, the schedule's name stands in for the backup's until the backup is
    # chosen: the flags are checked before any location is read.
    spec = restore_spec.RestoreSpec(
        name=name,
        backup_name=source,
        schedule_name=schedule or "",
        namespace_mappings=restore_spec.parse_namespace_mappings(opts["namespace_mappings"]),
        storage_class_mappings=restore_spec.parse_storage_class_mappings(
            opts["storage_class_mappings"]
        ),
        existing_resource_policy="update"
        if opts["existing_resource_policy"] == "update"
        else "none",
        preserve_node_ports=bool(opts["preserve_nodeports"]),
        dry_run=dry_run,
        status_included_resources=flags.comma_list((opts["status_include_resources"],)),
        status_excluded_resources=flags.comma_list((opts["status_exclude_resources"],)),
        **_modifiers(opts["resource_modifier_file"], opts["resource_modifier_configmap"]),
        **flags.selection_fields(opts),
    )
    timeout = durations.parse(opts["fs_restore_timeout"], "--fs-restore-timeout")
    volumes = restorer.Volumes(
        namespace=opts["node_agent_namespace"],
        image=opts["restore_helper_image"],
        timeout=timeout.total_seconds(),
    )
    location, repo, spec = restore_source.resolve(
        spec, opts["storage_location"], allow_partially_failed=opts["allow_partially_failed"],
        announce=not dry_run or context.settings().output is context.OutputFormat.TABLE,
    )  # fmt: skip
    with (
        session.kube() as kube,
        progress.Reporter(f"Restoring {name}", enabled=opts["wait"]) as bar,
    ):

        def pod_volumes(done: int, total: int, written: int) -> None:
            bar.update(done, total, f"pod volumes, {volume_view.size(written)} written")

        result = restorer.run(
            kube, repo, spec, clock=clock.SystemClock(),
            progress=lambda e: bar.update(e.done, e.total, e.item),
            volumes=dataclasses.replace(volumes, location=location, progress=pod_volumes),
        )  # fmt: skip
    settings = context.settings()
    if dry_run:
        if settings.output is context.OutputFormat.TABLE:
            for step in result.plan:
                click.echo(str(step))
            click.echo(f"Dry run of restore {name}: {len(result.plan)} items; nothing was changed.")
        else:
            output.emit_documents(
                [{"kind": "RestorePlan", "name": name, "steps": [vars(s) for s in result.plan]}],
                as_list=False, columns=(), rows=(),
            )  # fmt: skip
        return
    counts = ", ".join(f"{v} {k}" for k, v in result.counts.items() if v)
    click.echo(f'Restore "{name}" {result.phase}: {counts or "nothing to do"}.')
    if not result.stored:
        click.echo(
            f"warning: the restore's log and results were not stored ({result.not_stored_reason})"
            "; 'restore get' will not list it",
            err=True,
        )
    if result.phase == "PartiallyFailed":
        raise PartiallyFailed(
            f"restore {name} partially failed: see 'strongroom restore describe {name}'"
        )
    if result.phase == "Failed":
        raise RestoreFailed(f"restore {name} failed: see 'strongroom restore logs {name}'")
