"""A wrapper that repeats calls failing with :class:`TransientStorageError`.

Backoff is exponential with jitter, bounded both by a number of attempts and by a time budget;
permanent errors (every other :class:`StorageError`) pass through at once. The clock, sleep
and random source are injectable so tests need not wait.

What is retried: ``put`` of bytes, or of a stream that can ``seek`` back to where it started
(a one-shot stream is tried once); opening a reader with ``get`` (not reads from an open
reader); ``stat``; ``delete``; ``list``, which resumes after the last name it yielded.
``probe`` is not retried, so a dead endpoint is reported quickly.

A put retried after an ambiguous failure (the first attempt landed but its answer was lost)
raises :class:`ObjectExists` on the repeat; callers that write content-addressed names may
treat that as success.
"""

from __future__ import annotations

import dataclasses
import random
import time
import typing
from collections import abc

from strongroom.storage import base, errors, streams

T = typing.TypeVar("T")


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: ``attempts`` calls at most, within ``budget`` seconds."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0
    budget: float = 30.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0-based): half fixed, half jitter."""
        ceiling = min(self.max_delay, self.base_delay * (2.0**retry))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class _Seekable(typing.Protocol):
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...


class RetryingBackend:
    """``inner`` with transient failures retried according to ``policy``."""

    def __init__(
        self,
        inner: base.Backend,
        policy: RetryPolicy | None = None,
        *,
        sleep: abc.Callable[[float], object] = time.sleep,
        clock: abc.Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()

    @property
    def location(self) -> str:
        return self.inner.location

    def _backoff(self, retry: int, started: float) -> float | None:
        """The delay before retry number ``retry`` (1-based), or None when out of bounds."""
        delay = self.policy.delay(retry - 1, self._rng)
        if retry >= self.policy.attempts or self._clock() + delay > started + self.policy.budget:
            return None
        return delay

    def _call(self, func: abc.Callable[[], T], rewind: abc.Callable[[], object] | None = None) -> T:
        started = self._clock()
        retry = 0
        while True:
            try:
                return func()
            except errors.TransientStorageError:
                retry += 1
                delay = self._backoff(retry, started)
                if delay is None:
                    raise
            self._sleep(delay)
            if rewind is not None:
                rewind()

    def put(self, name: str, data: base.Data) -> None:
        if isinstance(data, bytes):
            return self._call(lambda: self.inner.put(name, data))
        if not _can_seek(data):
            return self.inner.put(name, data)
        seekable = typing.cast(_Seekable, data)
        start = seekable.tell()
        return self._call(lambda: self.inner.put(name, data), lambda: seekable.seek(start))

    def get(self, name: str, offset: int = 0, length: int | None = None) -> streams.ObjectReader:
        return self._call(lambda: self.inner.get(name, offset, length))

    def stat(self, name: str) -> base.ObjectInfo:
        return self._call(lambda: self.inner.stat(name))

    def list(self, prefix: str = "", *, after: str = "") -> abc.Iterator[base.ObjectInfo]:
        last = after
        started = self._clock()
        retry = 0
        while True:
            try:
                for info in self.inner.list(prefix, after=last):
                    last = info.name
                    retry = 0
                    yield info
                return
            except errors.TransientStorageError:
                if retry == 0:
                    started = self._clock()
                retry += 1
                delay = self._backoff(retry, started)
                if delay is None:
                    raise
            self._sleep(delay)

    def delete(self, name: str) -> None:
        return self._call(lambda: self.inner.delete(name))

    def purge(self, prefix: str) -> None:
        return self._call(lambda: self.inner.purge(prefix))

    def clear_unfinished(self, prefix: str, before: float) -> int:
        return self._call(lambda: self.inner.clear_unfinished(prefix, before))

    def probe(self) -> None:
        self.inner.probe()


def _can_seek(data: object) -> bool:
    seekable = getattr(data, "seekable", None)
    if callable(seekable):
        return bool(seekable())
    return callable(getattr(data, "seek", None)) and callable(getattr(data, "tell", None))
