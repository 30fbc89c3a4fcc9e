"""Which failures are retried for which verbs, and how long the client waits."""

from __future__ import annotations

import pytest

from strongroom.kube import errors, retry

POLICY = retry.RetryPolicy(max_retries=3, base_delay=0.5, max_delay=2.0, jitter=lambda c: c)


def api(
    cls: type[errors.ApiError], status: int, retry_after: float | None = None
) -> errors.ApiError:
    return cls("x", status=status, retry_after=retry_after)


def unreachable(sent: bool) -> errors.ApiUnreachable:
    exc = errors.ApiUnreachable("down")
    exc.request_sent = sent
    return exc


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (api(errors.TooManyRequests, 429), True, True),
        (api(errors.TooManyRequests, 429), False, True),
        (api(errors.ServerError, 503), True, True),
        (api(errors.ServerError, 503), False, False),
        (unreachable(sent=True), True, True),
        (unreachable(sent=True), False, False),
        (unreachable(sent=False), False, True),
        (api(errors.NotFound, 404), True, False),
        (api(errors.Conflict, 409), True, False),
        (api(errors.Invalid, 422), True, False),
        (api(errors.Unauthorized, 401), True, False),
    ],
)
def test_should_retry(error: errors.KubeError, idempotent: bool, expected: bool) -> None:
    assert POLICY.should_retry(1, error, idempotent=idempotent) is expected


def test_attempts_are_bounded() -> None:
    busy = api(errors.ServerError, 500)
    assert POLICY.should_retry(3, busy, idempotent=True)
    assert not POLICY.should_retry(4, busy, idempotent=True)
    down = unreachable(sent=False)
    assert POLICY.should_retry(2, down, idempotent=True)
    assert not POLICY.should_retry(3, down, idempotent=True)


def test_backoff_doubles_up_to_the_cap_and_honours_retry_after() -> None:
    busy = api(errors.ServerError, 503)
    assert [POLICY.delay(n, busy) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.0]
    assert POLICY.delay(1, api(errors.TooManyRequests, 429, retry_after=7)) == 7
    assert POLICY.delay(1, api(errors.TooManyRequests, 429, retry_after=1e6)) == 60.0


def test_default_jitter_stays_within_half_to_full() -> None:
    policy = retry.RetryPolicy(base_delay=1.0, max_delay=8.0)
    delays = [policy.delay(3, api(errors.ServerError, 500)) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 1
