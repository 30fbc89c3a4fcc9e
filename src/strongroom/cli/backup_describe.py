"""``strongroom backup describe``: one backup in detail, as ``velero backup describe``."""

from __future__ import annotations

from typing import Any

import click

from strongroom.cli import backup_view, context, locate, output


def _list(values: Any, default: str = "*") -> str:
    return ", ".join(str(v) for v in values) if values else default


def results_lines(results: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for severity in ("errors", "warnings"):
        section = (results or {}).get(severity) or {}
        for scope in ("strongroom", "cluster"):
            for message in section.get(scope) or []:
                pairs.append((f"  {severity[:-1].title()} ({scope})", str(message)))
        for ns, messages in sorted((section.get("namespaces") or {}).items()):
            for message in messages:
                pairs.append((f"  {severity[:-1].title()} ({ns})", str(message)))
    return pairs


@click.command()
@click.argument("name")
@click.option("--details", is_flag=True, help="Also list every resource in the backup.")
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
@context.output_option
def describe(name: str, details: bool, storage_location: str | None) -> None:
    """Show backup NAME: its spec, status, warnings and errors."""
    settings = context.settings()
    (loc, _), backup = locate.find("backup", name, storage_location)
    if settings.output is not context.OutputFormat.TABLE:
        backup_view.emit([backup], loc.name, as_list=False)
        return
    spec, status = backup.manifest.spec, backup.manifest.status
    pairs = [
        ("Name", name),
        ("Phase", str(status.get("phase", ""))),
        ("Storage location", loc.name),
        ("Writer", backup_view.writer(backup)),
        ("Namespaces included", _list(spec.get("includedNamespaces"))),
        ("Namespaces excluded", _list(spec.get("excludedNamespaces"), "<none>")),
        ("Resources included", _list(spec.get("includedResources"))),
        ("Resources excluded", _list(spec.get("excludedResources"), "<none>")),
        ("Cluster-scoped", str(spec.get("includeClusterResources") or "auto")),
        ("Label selector", backup_view.selector(spec)),
        ("TTL", str(spec.get("ttl", ""))),
        ("Started", str(status.get("startTimestamp", ""))),
        ("Completed", str(status.get("completionTimestamp", ""))),
        ("Expiration", str(status.get("expiration", ""))),
        ("Items backed up", str((status.get("progress") or {}).get("itemsBackedUp", ""))),
        ("Warnings", str(status.get("warnings", 0))),
        ("Errors", str(status.get("errors", 0))),
    ]
    pairs += results_lines(backup_view.read_document(backup, "results"))
    output.emit_fields(pairs)
    if details:
        click.echo("\nResource list:")
        resources = backup_view.read_document(backup, "resources") or {}
        for kind, items in sorted(resources.items()):
            click.echo(f"  {kind}:")
            for item in items:
                click.echo(f"    - {item}")
