"""What the key-service providers share: bounded retries and how a slot is named.

A provider wraps each KMS request in :meth:`Backoff.run`; the request raises :class:`Retry`
when the service was busy, throttled or unreachable. After ``attempts`` calls in all, or once
the next wait would end past ``budget`` seconds from the first call, the last :class:`Retry` is
raised again for the provider to translate (into ``KeyServiceUnreachable``). With the
providers' timeouts (at most 3 s per request) a dead or hung service fails within 5 s.
The clock, the sleep and the jitter source are injectable so tests need not wait. The SDKs'
own retries are turned off by the providers, so this is the only retry loop.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Retry(Exception):
    """Raised by a request when another attempt may succeed; ``reason`` is one clear line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Backoff:
    """At most ``attempts`` calls; before call n+1 sleep ``uniform(0, min(cap, first * 2**n))``."""

    attempts: int = 4
    first: float = 0.2
    cap: float = 2.0
    #: No retry whose wait would end more than this many seconds after the first call.
    budget: float = 3.0
    clock: Callable[[], float] = dataclasses.field(default=time.monotonic, compare=False)
    sleep: Callable[[float], None] = dataclasses.field(default=time.sleep, compare=False)
    #: Returns a float in [0, 1): the jitter fraction of each delay.
    jitter: Callable[[], float] = dataclasses.field(default=random.random, compare=False)

    def delays(self) -> tuple[float, ...]:
        """The upper bounds of the waits between attempts (``attempts - 1`` of them)."""
        return tuple(min(self.cap, self.first * 2**n) for n in range(self.attempts - 1))

    def run(self, request: Callable[[], T]) -> T:
        """``request()``'s result; re-raises the last :class:`Retry` once the bound is reached."""
        start = self.clock()
        for bound in self.delays():
            try:
                return request()
            except Retry:
                delay = bound * self.jitter()
                if self.clock() - start + delay > self.budget:
                    raise
                self.sleep(delay)
        return request()


def slot_label(uri: str, context: bytes) -> str:
    """``<uri> (slot <id>)`` for error messages: the key URI and the slot id the context names."""
    try:
        value = json.loads(context)
    except ValueError:
        value = None
    slot = value.get("slot") if isinstance(value, dict) else None
    return f"{uri} (slot {slot})" if isinstance(slot, str) else uri
