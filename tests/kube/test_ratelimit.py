"""The client-side token bucket, driven by a fake clock."""

from __future__ import annotations

import threading

import pytest

from strongroom.kube import ratelimit


class FakeClock:
    """Time moves only when someone sleeps; sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_burst_then_qps() -> None:
    clock = FakeClock()
    bucket = ratelimit.TokenBucket(qps=10, burst=3, clock=clock)
    waits = [bucket.acquire() for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([0.1, 0.1, 0.1])
    assert clock.now == pytest.approx(1000.3)


def test_tokens_refill_with_idle_time_up_to_burst() -> None:
    clock = FakeClock()
    bucket = ratelimit.TokenBucket(qps=2, burst=2, clock=clock)
    assert [bucket.acquire() for _ in range(2)] == [0.0, 0.0]
    clock.now += 60  # a long pause refills to burst, not to 120
    assert [bucket.acquire() for _ in range(2)] == [0.0, 0.0]
    assert bucket.acquire() == pytest.approx(0.5)


class FrozenClock(FakeClock):
    """Time stands still: every waiter's reservation is computed against the same instant."""

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)


def test_concurrent_waiters_get_successive_reservations() -> None:
    clock = FrozenClock()
    bucket = ratelimit.TokenBucket(qps=100, burst=1, clock=clock)
    assert bucket.acquire() == 0.0
    threads = [threading.Thread(target=bucket.acquire) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(clock.sleeps) == pytest.approx([0.01, 0.02, 0.03, 0.04, 0.05])


def test_unlimited_and_invalid() -> None:
    clock = FakeClock()
    bucket = ratelimit.TokenBucket(qps=0, burst=1, clock=clock)
    assert all(bucket.acquire() == 0.0 for _ in range(1000))
    assert clock.sleeps == []
    with pytest.raises(ValueError):
        ratelimit.TokenBucket(qps=1, burst=0)
