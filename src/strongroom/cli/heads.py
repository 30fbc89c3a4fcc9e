"""What this client remembers of each repository: the newest backup it saw (its head).

Kept in ``$XDG_STATE_HOME/strongroom/heads.json`` (``~/.local/state/...``), keyed by
repository id: the head's backup id, manifest digest and start time, nothing secret. No
backup names: the repository keeps those encrypted, and so this file leaves them out (one
written by an older version still has them; they are read, and dropped when the file is next
written). A repository whose remembered head has vanished, or changed, was tampered with or
rolled back (``repository.integrity``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pathlib
import tempfile
from collections.abc import Mapping

import click

from strongroom import errors
from strongroom.repository import integrity
from strongroom.repository import repo as repo_mod


class RepositoryTampered(errors.IntegrityError):
    pass


def path(environ: Mapping[str, str] = os.environ) -> pathlib.Path:
    base = environ.get("XDG_STATE_HOME") or str(pathlib.Path.home() / ".local" / "state")
    return pathlib.Path(base) / "strongroom" / "heads.json"


def _load(where: pathlib.Path) -> dict[str, dict[str, str]]:
    try:
        raw = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise errors.ConfigError(
            f"client state {where} is unreadable: delete it to start afresh"
        ) from exc
    return raw if isinstance(raw, dict) else {}


def _entry(raw: Mapping[str, str]) -> dict[str, str]:
    """What is kept of a head: everything but its backup's name."""
    return {k: v for k, v in raw.items() if k != "name"}


def remembered(repository: str) -> integrity.Head | None:
    entry = _load(path()).get(repository)
    if not isinstance(entry, dict):
        return None
    head = integrity.Head.from_dict(entry)
    # No name is kept, so messages about this head name its backup by id.
    return head if head.name else dataclasses.replace(head, name=head.backup)


def remember(repository: str, head: integrity.Head | None) -> None:
    if head is None:
        return
    where = path()
    state = {r: _entry(e) for r, e in _load(where).items() if isinstance(e, dict)}
    state[repository] = _entry(head.to_dict())
    where.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".heads-", dir=where.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=1, sort_keys=True)
        os.replace(tmp, where)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check(repo: repo_mod.Repository) -> list[str]:
    """Audit ``repo`` against what this client remembers; remember the new head when clean.

    Failing to write the state file (a full or read-only disk) is a warning, not a failure
    of the command: what happened in the repository happened, and the next run that can
    write the file remembers the head again.
    """
    problems, head = repo.audit(remembered(repo.id))
    if not problems:
        try:
            remember(repo.id, head)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            click.echo(
                f"warning: client state {path()} not updated ({reason}): rollback detection "
                "resumes once it can be written",
                err=True,
            )
    return problems


def require_clean(repo: repo_mod.Repository) -> None:
    problems = check(repo)
    if problems:
        more = (
            f" (and {len(problems) - 1} more: 'strongroom location verify')"
            if len(problems) > 1
            else ""
        )
        raise RepositoryTampered(f"{repo.location}: {problems[0]}{more}")
