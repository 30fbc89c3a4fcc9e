"""``strongroom restore describe``: one restore in detail, with its per-item results."""

from __future__ import annotations

import click

from strongroom.cli import backup_describe, backup_view, context, locate, output


@click.command()
@click.argument("name")
@click.option("--details", is_flag=True, help="Also list every item and what happened to it.")
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
@context.output_option
def describe(name: str, details: bool, storage_location: str | None) -> None:
    """Show restore NAME: what it restored from where, its warnings and errors."""
    settings = context.settings()
    (loc, _), restore = locate.find("restore", name, storage_location)
    if settings.output is not context.OutputFormat.TABLE:
        backup_view.emit([restore], loc.name, as_list=False, restores=True)
        return
    spec, status = restore.manifest.spec, restore.manifest.status
    mappings = spec.get("namespaceMapping") or {}
    pairs = [
        ("Name", name),
        ("Phase", str(status.get("phase", ""))),
        ("Backup", str(spec.get("backupName", ""))),
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
