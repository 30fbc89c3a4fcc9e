"""``strongroom backup describe``: one backup in detail, as ``velero backup describe``."""

from __future__ import annotations

from typing import Any

import click

from strongroom.cli import backup_view, config, context, flags, locate, output
from strongroom.repository import backups as stored


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


def _pairs(mapping: object) -> str:
    if not isinstance(mapping, dict) or not mapping:
        return "<none>"
    return ", ".join(f"{k}={v}" for k, v in sorted(mapping.items()))


@click.command()
@click.argument("names", nargs=-1)
@click.option("--details", is_flag=True, help="Also list every resource in the backup.")
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
@flags.label_selector("Only")
@context.output_option
def describe(
    names: tuple[str, ...], details: bool, selector: str | None, storage_location: str | None
) -> None:
    """Show backups NAMES (or those matching --selector, or all of them): spec, status,
    warnings and errors."""
    settings = context.settings()
    found = locate.select("backup", names, selector, storage_location)
    if settings.output is not context.OutputFormat.TABLE:
        as_list = len(names) != 1
        backup_view.emit([f.item for f in found], [f.location.name for f in found], as_list=as_list)
        return
    for index, each in enumerate(found):
        if index:
            click.echo()
        _describe_one(each.location, each.item, details)


def _describe_one(loc: config.Location, backup: stored.Backup, details: bool) -> None:
    name = backup.name
    spec, status = backup.manifest.spec, backup.manifest.status
    metadata = backup_view.document(backup, loc.name)["metadata"]
    pairs = [
        ("Name", name),
        ("Phase", str(status.get("phase", ""))),
        ("Storage location", loc.name),
        ("Writer", backup_view.writer(backup)),
        ("Labels", _pairs(metadata.get("labels"))),
        ("Annotations", _pairs(metadata.get("annotations"))),
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
