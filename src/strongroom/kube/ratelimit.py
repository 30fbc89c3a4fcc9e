"""Client-side request rate limiting: a token bucket with an injectable clock.

Like client-go's ``flowcontrol`` limiter, :meth:`TokenBucket.acquire` reserves a token under
a lock and sleeps outside it, so waiting threads are served in arrival order at ``qps``
requests per second after an initial ``burst``.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic time and sleeping, replaced by a fake clock in tests."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class TokenBucket:
    """At most ``burst`` requests at once, then ``qps`` per second (``qps <= 0``: unlimited)."""

    def __init__(self, qps: float, burst: int, *, clock: Clock | None = None) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.qps = qps
        self.burst = burst
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._last = self._clock.monotonic()

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; return the seconds waited."""
        if self.qps <= 0:
            return 0.0
        with self._lock:
            now = self._clock.monotonic()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
            self._last = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.qps
        if wait > 0:
            self._clock.sleep(wait)
        return wait
