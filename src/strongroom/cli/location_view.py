"""How storage locations look on the command line: a Velero-style document and table rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strongroom.cli import config, output
from strongroom.repository import keyring

COLUMNS = ("name", "provider", "bucket/prefix", "default")


def document(cfg: config.Config, loc: config.Location) -> dict[str, Any]:
    """The location as a ``BackupStorageLocation``-shaped document, as Velero prints it."""
    return {
        "apiVersion": config.API_VERSION,
        "kind": "BackupStorageLocation",
        "metadata": {"name": loc.name},
        "spec": {
            "provider": loc.provider,
            "objectStorage": {"bucket": loc.bucket, "prefix": loc.prefix},
            "config": dict(loc.config),
            "default": loc.name == cfg.default_location,
        },
        "status": {
            "repository": loc.repository,
            "keyringFingerprint": keyring.show_fingerprint(loc.fingerprint),
            "keyEpoch": loc.epoch,
            "kmsKeys": list(loc.kms_keys or ()),
        },
    }


def where(loc: config.Location) -> str:
    return f"{loc.bucket}/{loc.prefix}" if loc.prefix else loc.bucket


def emit(cfg: config.Config, locations: Sequence[config.Location], *, as_list: bool) -> None:
    rows = [
        (loc.name, loc.provider, where(loc), "true" if loc.name == cfg.default_location else "")
        for loc in locations
    ]
    output.emit_documents(
        [document(cfg, loc) for loc in locations], as_list=as_list, columns=COLUMNS, rows=rows
    )
