from __future__ import annotations

import itertools

from strongroom.repository import backups, repo

SECRET = b"s3cr3t-value-that-must-never-appear"
_SECONDS = itertools.count()


def write_backup(r: repo.Repository, name: str, payload: bytes = SECRET * 100) -> backups.Writer:
    writer = r.begin_backup(name)
    writer.put("archive", [payload[: len(payload) // 2], payload[len(payload) // 2 :]])
    writer.put("log", [b"log line\n"])
    second = next(_SECONDS)
    started = f"2026-01-01T{second // 3600:02d}:{second % 3600 // 60:02d}:{second % 60:02d}Z"
    writer.commit({"includedNamespaces": ["*"]}, {"phase": "Completed", "startTimestamp": started})
    return writer


def read_all(r: repo.Repository, name: str, type_: str) -> bytes:
    return b"".join(r.backup(name).open(type_))
