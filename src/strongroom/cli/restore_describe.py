"""``strongroom restore describe``: one restore in detail, with its per-item results."""

from __future__ import annotations

import click

from strongroom.cli import backup_describe, backup_view, config, context, flags, locate, output
from strongroom.repository import backups as stored


@click.command()
@click.argument("names", nargs=-1)
@click.option("--details", is_flag=True, help="Also list every item and what happened to it.")
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
@flags.label_selector("Only")
@context.output_option
def describe(
    names: tuple[str, ...], details: bool, selector: str | None, storage_location: str | None
) -> None:
    """Show restores NAMES (or those matching --selector, or all of them): what each restored
    from where, its warnings and errors."""
    settings = context.settings()
    found = locate.select("restore", names, selector, storage_location)
    if settings.output is not context.OutputFormat.TABLE:
        as_list = len(names) != 1
        backup_view.emit(
            [f.item for f in found],
            [f.location.name for f in found],
            as_list=as_list,
            restores=True,
        )
        return
    for index, each in enumerate(found):
        if index:
            click.echo()
        _describe_one(each.location, each.item, details)


def _describe_one(loc: config.Location, restore: stored.Backup, details: bool) -> None:
    name = restore.name
    spec, status = restore.manifest.spec, restore.manifest.status
    mappings = spec.get("namespaceMapping") or {}
    pairs = [
        ("Name", name),
        ("Phase", str(status.get("phase", ""))),
        ("Backup", str(spec.get("backupName", ""))),
        *([("Schedule", str(spec["scheduleName"]))] if spec.get("scheduleName") else []),
        (
            "Namespace mappings",
            ", ".join(f"{k}:{v}" for k, v in sorted(mappings.items())) or "<none>",
        ),
        ("Existing resource policy", str(spec.get("existingResourcePolicy") or "none")),
        ("Label selector", backup_view.selector(spec)),
        ("Started", str(status.get("startTimestamp", ""))),
        ("Completed", str(status.get("completionTimestamp", ""))),
        ("Items restored", str((status.get("progress") or {}).get("itemsRestored", ""))),
        ("Warnings", str(status.get("warnings", 0))),
        ("Errors", str(status.get("errors", 0))),
    ]
    pairs += backup_describe.results_lines(backup_view.read_document(restore, "results"))
    output.emit_fields(pairs)
    if details:
        click.echo("\nResource list:")
        for kind, items in sorted((backup_view.read_document(restore, "resources") or {}).items()):
            click.echo(f"  {kind}:")
            for item in items:
                click.echo(f"    - {item}")
