"""A pack stored while it is filled (docs/format.md §10.2): its bytes stream to storage.

A pack of about 32 MiB held whole until its put would cost that much memory per open pack;
instead, :class:`Upload` starts the pack's ``put`` in a thread of its own at once, and the
writer pushes each sealed blob to it as the blob is made. At most :data:`BUFFER` bytes wait
between the two (the writer blocks beyond that), so an open pack costs a few MiB whatever its
size. The object appears only when the put completes (the filesystem links a finished file,
S3 completes a multipart upload): a pack whose upload is aborted, or whose writer dies,
leaves no object, or at worst an unindexed one that collection removes, as before.

The put reads the pack through :meth:`Upload.read`; a put that fails (a storage error, or
anything raised in its thread) is raised again in the writer at its next push or at
:meth:`Upload.finish`.
"""

from __future__ import annotations

import collections
import threading

from strongroom.storage import base as storage_base

#: Bytes pushed and not yet taken by the put, at most, per open pack (one blob may pass it).
BUFFER = 4 << 20
#: Bytes that wake the put: it writes pieces of about this size.
WAKE = 1 << 20


class Aborted(Exception):
    """The writer gave the pack up: its put must fail and store nothing."""


class Upload:
    """One pack's put, running in its own thread, fed by :meth:`push`; see the module doc."""

    def __init__(self, backend: storage_base.Backend, name: str, *, buffer: int = BUFFER) -> None:
        self.name = name
        #: Bytes pushed so far: the pack's size once finished.
        self.size = 0
        self._backend = backend
        self._buffer = buffer
        self._wake = min(WAKE, buffer)  # a writer waiting on a full buffer must wake the put
        self._queue: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._closed = False
        self._aborted = False
        self._done = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"put {name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._backend.put(self.name, self)
        except BaseException as exc:  # raised again in the writer
            self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    # -- the writer's side ----------------------------------------------------------------------

    def push(self, parts: list[bytes]) -> None:
        """Queue the next bytes of the pack, waiting while :data:`BUFFER` bytes wait already."""
        with self._cond:
            while self._queued > self._buffer and not self._done:
                self._cond.wait()
            self._raise_failure()
            if self._done:
                raise RuntimeError(f"put {self.name} ended before the pack was complete")
            for part in parts:
                self._queue.append(part)
                self._queued += len(part)
                self.size += len(part)
            if self._queued >= self._wake:
                self._cond.notify_all()

    def finish(self, parts: list[bytes]) -> None:
        """Push the last bytes and wait until the pack is stored (its put's error raised)."""
        self.push(parts)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        self._raise_failure()

    def abort(self) -> None:
        """Give the pack up: its put fails and stores nothing; waits for the put to end."""
        with self._cond:
            self._closed = self._aborted = True
            self._queue.clear()
            self._queued = 0
            self._cond.notify_all()
        self._thread.join()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    # -- the put's side -------------------------------------------------------------------------

    def read(self, size: int, /) -> bytes:
        """Up to ``size`` bytes of the pack, waiting for the writer; ``b""`` once finished.

        The put is woken once :data:`WAKE` bytes (or ``size``) wait, not for every blob, and
        takes them joined: a pack of small blobs is written in large pieces.
        """
        with self._cond:
            while self._queued < min(size, self._wake) and not self._closed:
                self._cond.wait()
            if self._aborted:
                raise Aborted(f"{self.name}: the pack was given up")
            pieces: list[bytes] = []
            taken = 0
            while self._queue and taken < size:
                part = self._queue.popleft()
                if taken + len(part) > size:
                    self._queue.appendleft(part[size - taken :])
                    part = part[: size - taken]
                pieces.append(part)
                taken += len(part)
            self._queued -= taken
            self._cond.notify_all()
        return b"".join(pieces)
