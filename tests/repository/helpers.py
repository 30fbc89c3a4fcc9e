from __future__ import annotations

from strongroom.repository import backups, repo

SECRET = b"s3cr3t-value-that-must-never-appear"


def write_backup(r: repo.Repository, name: str, payload: bytes = SECRET * 100) -> backups.Writer:
    writer = r.begin_backup(name)
    writer.put("archive", [payload[: len(payload) // 2], payload[len(payload) // 2 :]])
    writer.put("log", [b"log line\n"])
    writer.commit({"includedNamespaces": ["*"]}, {"phase": "Completed", "startTimestamp": name})
    return writer


def read_all(r: repo.Repository, name: str, type_: str) -> bytes:
    return b"".join(r.backup(name).open(type_))
