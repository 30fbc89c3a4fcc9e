"""What this client remembers of each repository: the newest backup it saw (its head).

Kept in ``$XDG_STATE_HOME/strongroom/heads.json`` (``~/.local/state/...``), keyed by
repository id. It holds ids, names and digests, nothing secret. A repository whose remembered
head has vanished, or changed, was tampered with or rolled back (``repository.integrity``).
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import tempfile
from collections.abc import Mapping

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


def remembered(repository: str) -> integrity.Head | None:
    entry = _load(path()).get(repository)
    return integrity.Head.from_dict(entry) if isinstance(entry, dict) else None


def remember(repository: str, head: integrity.Head | None) -> None:
    if head is None:
        return
    where = path()
    state = _load(where)
    state[repository] = head.to_dict()
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
    """Audit ``repo`` against what this client remembers; remember the new head when clean."""
    problems, head = repo.audit(remembered(repo.id))
    if not problems:
        remember(repo.id, head)
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
