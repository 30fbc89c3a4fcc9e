"""``strongroom backup describe``: one backup in detail, as ``velero backup describe``."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from strongroom import clock
from strongroom.cli import backup_view, config, context, flags, locate, output, volume_view
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
    volumes = status.get("volumeSnapshots") or []
    pairs.append(("Pod volumes", f"{len(volumes)} backed up" if volumes else "<none>"))
    output.emit_fields(pairs)
    if details and volumes:
        click.echo("\nPod volumes:")
        for entry in volumes:
            click.echo(_volume_line(entry))
    if details:
        click.echo("\nResource list:")
        resources = backup_view.read_document(backup, "resources") or {}
        for kind, items in sorted(resources.items()):
            click.echo(f"  {kind}:")
            for item in items:
                click.echo(f"    - {item}")


def _volume_line(entry: object) -> str:
    """One pod volume of ``status.volumeSnapshots``: where from, how much, how long, result."""
    if not isinstance(entry, dict):
        return "  - <malformed>"
    claim = f" (claim {entry.get('pvc')})" if entry.get("pvc") else ""
    took = ""
    with contextlib.suppress(ValueError, TypeError):
        start = clock.parse_rfc3339(str(entry.get("startTimestamp")))
        end = clock.parse_rfc3339(str(entry.get("completionTimestamp")))
        took = f", {(end - start).total_seconds():.0f}s"
    return (
        f"  - {entry.get('namespace')}/{entry.get('pod')} volume {entry.get('volume')}{claim} "
        f"on {entry.get('node')}: {entry.get('phase')}, {entry.get('files')} files, "
        f"{volume_view.size(int(entry.get('bytes') or 0))}{took}, snapshot {entry.get('id')}"
    )
