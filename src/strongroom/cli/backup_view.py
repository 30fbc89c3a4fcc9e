"""How backups and restores look on the command line: Velero-shaped documents and rows."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

from strongroom import clock
from strongroom.archive import compress
from strongroom.cli import config, output
from strongroom.engine.backup import expiry
from strongroom.repository import backups

BACKUP_COLUMNS = (
    "name",
    "status",
    "errors",
    "warnings",
    "created",
    "expires",
    "storage location",
    "selector",
    "writer",
)
RESTORE_COLUMNS = (
    "name",
    "backup",
    "status",
    "started",
    "completed",
    "errors",
    "warnings",
    "created",
    "selector",
)


def document(item: backups.Backup, location: str) -> dict[str, Any]:
    """The backup (or restore) as a ``Backup``/``Restore`` object, as Velero prints it.

    Its own labels and annotations (``backup create --labels/--annotations``, kept in the
    manifest's ``spec.metadata``) come first; Strongroom's two labels always win:
    ``strongroom.io/storage-location``, and ``strongroom.io/writer``, which names the
    registered writer that signed it, or is "" when a client holding the keyring made it.
    """
    manifest = item.manifest
    own = manifest.spec.get("metadata")
    own = own if isinstance(own, dict) else {}
    given, notes = own.get("labels"), own.get("annotations")
    labels = {str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else {}
    labels |= {"strongroom.io/storage-location": location, "strongroom.io/writer": manifest.writer}
    metadata: dict[str, Any] = {"name": manifest.name, "labels": labels}
    if isinstance(notes, dict) and notes:
        metadata["annotations"] = {str(k): str(v) for k, v in notes.items()}
    return {
        "apiVersion": config.API_VERSION,
        "kind": manifest.kind,
        "metadata": metadata,
        "spec": manifest.spec,
        "status": manifest.status,
    }


def _span(seconds: float) -> str:
    """``2d``, ``5h``, ``12m``, ``30s``: a duration as kubectl shows ages."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def expires(spec: dict[str, Any], status: dict[str, Any], now: datetime.datetime) -> str:
    """The EXPIRES column: the time left (``29d``), ``expired`` once past, ``n/a`` unknown."""
    when = expiry.expiration(spec, status)
    if when is None:
        return "n/a"
    if expiry.has_expired(when, now):
        return "expired"
    return _span((when - now).total_seconds())


def label_selector_text(selector: Any) -> str:
    """A ``metav1.LabelSelector`` as kubectl's ``-l`` text (``app=web,tier in (a,b)``)."""
    if isinstance(selector, str):
        return selector
    if not isinstance(selector, dict):
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, operator = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(expr.get("values") or [])
        parts.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}.get(
                operator, f"!{key}"
            )
        )
    return ",".join(parts)


def selector(spec: dict[str, Any]) -> str:
    if spec.get("labelSelector"):
        return label_selector_text(spec["labelSelector"])
    ors = spec.get("orLabelSelectors") or []
    return " or ".join(label_selector_text(s) for s in ors) if ors else "<none>"


def writer(item: backups.Backup) -> str:
    """The writer that signed the backup, or "-" when a keyring holder made it."""
    return item.manifest.writer or "-"


def _count(status: dict[str, Any], key: str) -> str:
    return str(status.get(key, 0))


def backup_row(item: backups.Backup, location: str, now: datetime.datetime) -> tuple[str, ...]:
    s, status = item.manifest.spec, item.manifest.status
    return (
        item.name,
        str(status.get("phase", "")),
        _count(status, "errors"),
        _count(status, "warnings"),
        str(status.get("startTimestamp", "")),
        expires(s, status, now),
        location,
        selector(s),
        writer(item),
    )


def restore_row(item: backups.Backup) -> tuple[str, ...]:
    s, status = item.manifest.spec, item.manifest.status
    return (
        item.name,
        str(s.get("backupName", "")),
        str(status.get("phase", "")),
        str(status.get("startTimestamp", "")),
        str(status.get("completionTimestamp", "")),
        _count(status, "errors"),
        _count(status, "warnings"),
        str(status.get("startTimestamp", "")),
        selector(s),
    )


def emit(
    items: Sequence[backups.Backup],
    location: str | Sequence[str],
    *,
    as_list: bool,
    restores: bool = False,
) -> None:
    """Show ``items``; ``location`` names the location of all of them, or of each in turn."""
    now = clock.SystemClock().now()
    where = [location] * len(items) if isinstance(location, str) else list(location)
    pairs = list(zip(items, where, strict=True))
    rows = [restore_row(i) if restores else backup_row(i, loc, now) for i, loc in pairs]
    output.emit_documents(
        [document(i, loc) for i, loc in pairs],
        as_list=as_list,
        columns=RESTORE_COLUMNS if restores else BACKUP_COLUMNS,
        rows=rows,
    )


def read_document(item: backups.Backup, type_: str) -> Any:
    """A small JSON object of the backup (results, resource list), decrypted and verified."""
    if not item.has(type_):
        return None
    return json.loads(compress.decompress_document(b"".join(item.open(type_))))


def read_text(item: backups.Backup, type_: str) -> str:
    if not item.has(type_):
        return ""
    return b"".join(compress.decompress_stream(item.open(type_))).decode("utf-8", "replace")
