"""``strongroom location describe``: one storage location in detail."""

from __future__ import annotations

import time

import click

from strongroom import errors
from strongroom.cli import config, context, debris_view, location_view, output, session
from strongroom.repository import debris, keyring


@click.command()
@click.argument("name", required=False)
@context.output_option
def describe(name: str | None) -> None:
    """Show storage location NAME (default: the default location), with the incomplete
    backups and restores (debris of killed runs) found there; no key is needed for that."""
    settings = context.settings()
    cfg = config.load(settings.config_path)
    loc = cfg.location(name)
    now = time.time()
    try:
        found: list[debris.Incomplete] | None = debris.find(session.backend(loc))
        unreachable = ""
    except errors.StrongroomError as exc:
        found, unreachable = None, str(exc)
    if settings.output is not context.OutputFormat.TABLE:
        doc = location_view.document(cfg, loc)
        doc["status"]["incomplete"] = None if found is None else debris_view.documents(found, now)
        output.emit_documents([doc], as_list=False, columns=(), rows=())
        return
    pairs = [
        ("Name", loc.name),
        ("Provider", loc.provider),
        ("Bucket", loc.bucket),
        ("Prefix", loc.prefix or "<none>"),
        ("Default", "true" if loc.name == cfg.default_location else "false"),
        ("Config", ", ".join(f"{k}={v}" for k, v in sorted(loc.config.items())) or "<none>"),
        ("Config file", str(cfg.path)),
        ("Keyring fingerprint", keyring.show_fingerprint(loc.fingerprint) or "<not pinned>"),
    ]
    if found is None:
        pairs.append(("Incomplete", f"<unknown: {unreachable}>"))
    else:
        pairs.append(("Incomplete", str(len(found))))
    output.emit_fields(pairs)
    for line in debris_view.lines(found or [], now):
        click.echo(f"  {line}")
    if found:
        click.echo(f"  {debris_view.REMOVE_HINT}")
