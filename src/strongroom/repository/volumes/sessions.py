"""Volume backups in progress (docs/format.md §10.6): what a collection waits for.

A session stores ``v/l/<session-id>/<n>`` when it starts and a new one (``n + 1``, then the old
one deleted) every :data:`REFRESH`; a session none of whose objects was refreshed within
:data:`DEAD_AFTER` is dead (a crashed backup) and no longer holds a collection back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import threading
import time
from collections import abc

from strongroom import clock as clock_mod
from strongroom import errors as base_errors
from strongroom.repository import documents, errors
from strongroom.repository.volumes import records
from strongroom.repository.volumes.keys import VolumeKeys
from strongroom.storage import base as storage_base

PREFIX = "v/l/"
REFRESH = datetime.timedelta(minutes=10)
DEAD_AFTER = datetime.timedelta(hours=1)


class SessionLost(errors.RepositoryError):
    """The session's object vanished: a collection may have deleted what this backup reuses."""


def _name(session: str, sequence: int) -> str:
    return f"{PREFIX}{session}/{sequence:08d}"


class Session:
    """One volume backup's presence in the repository; see the module docstring."""

    def __init__(
        self, backend: storage_base.Backend, keys: VolumeKeys, clock: clock_mod.Clock
    ) -> None:
        self.id = documents.new_id()
        self._backend = backend
        self._keys = keys
        self._clock = clock
        self._sequence = 0
        self._started = clock_mod.rfc3339(clock.now())
        self._refreshed_at = 0.0
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return _name(self.id, self._sequence)

    def _store(self, sequence: int) -> None:
        body = {
            "session": self.id,
            "started": self._started,
            "refreshed": clock_mod.rfc3339(self._clock.now()),
        }
        doc = records.seal(self._keys, records.SESSION_FORMAT, body)
        self._backend.put(_name(self.id, sequence), doc)
        self._refreshed_at = time.monotonic()

    def start(self) -> None:
        self._store(0)

    def refresh(self, *, force: bool = False) -> None:
        """Store the next session object if :data:`REFRESH` has passed (thread-safe)."""
        with self._lock:
            if not force and time.monotonic() - self._refreshed_at < REFRESH.total_seconds():
                return
            old = self._sequence
            self._store(old + 1)
            self._sequence = old + 1
            with contextlib.suppress(base_errors.NotFoundError):
                self._backend.delete(_name(self.id, old))

    def check(self) -> None:
        """Raise :class:`SessionLost` unless this session's current object is still stored."""
        try:
            self._backend.stat(self.name)
        except base_errors.NotFoundError:
            raise SessionLost(
                f"{self.name}: this backup's session object was deleted while it ran; a "
                "collection may have removed data it reuses, so it does not commit"
            ) from None

    def end(self) -> None:
        with contextlib.suppress(base_errors.NotFoundError):
            self._backend.delete(self.name)


@dataclasses.dataclass(frozen=True)
class Seen:
    """A session as a collector sees it."""

    session: str
    refreshed: datetime.datetime | None  # None: its object does not authenticate


def listing(backend: storage_base.Backend, keys: VolumeKeys) -> tuple[dict[str, Seen], list[str]]:
    """Every session with an object stored now (its newest refresh), and problems."""
    seen: dict[str, Seen] = {}
    problems: list[str] = []
    for info in backend.list(PREFIX):
        session = info.name[len(PREFIX) :].split("/", 1)[0]
        try:
            doc = records.read(backend, info.name, keys, records.SESSION_FORMAT)
            refreshed = clock_mod.parse_rfc3339(str(doc.get("refreshed", "")))
        except (base_errors.NotFoundError, records.OtherEpoch):
            continue  # refreshed (deleted) since the listing, or another epoch's session
        except (base_errors.IntegrityError, ValueError) as exc:
            problems.append(f"{info.name}: {exc}")
            continue
        if doc.get("session") != session:
            problems.append(f"{info.name}: a session object stored under another session's name")
            continue
        before = seen.get(session)
        if before is None or (before.refreshed and before.refreshed < refreshed):
            seen[session] = Seen(session, refreshed)
    return seen, problems


def alive(seen: Seen, now: datetime.datetime) -> bool:
    return seen.refreshed is not None and now - seen.refreshed < DEAD_AFTER


@contextlib.contextmanager
def reading(
    backend: storage_base.Backend, keys: VolumeKeys, clock: clock_mod.Clock
) -> abc.Iterator[Session | None]:
    """A session for a restore or verify, so that a sweep waits for it too; None where the
    storage takes no writes (a collection meanwhile can then fail the read, never falsify it)."""
    session = Session(backend, keys, clock)
    try:
        session.start()
    except base_errors.PermissionDeniedError:
        yield None
        return
    try:
        yield session
    finally:
        session.end()
