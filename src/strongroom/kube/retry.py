"""When and how long to wait before sending a failed request again.

Retryable failures are :class:`~strongroom.kube.errors.TooManyRequests` (429, honouring
Retry-After), :class:`~strongroom.kube.errors.ServerError` (5xx) and
:class:`~strongroom.kube.errors.ApiUnreachable`. Whether a *request* may be repeated depends on
its verb: reads, watch starts, deletes, server-side apply and PUTs that carry a
resourceVersion are idempotent; a POST (create) is repeated only when the server cannot have
acted on it (a 429, or a connection that was never established).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

from strongroom.kube import errors


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, for ``max_retries`` further attempts."""

    max_retries: int = 5
    #: Retries when no connection could be made, kept low so a down server fails fast.
    max_unreachable_retries: int = 2
    base_delay: float = 0.2
    max_delay: float = 10.0
    #: The longest Retry-After honoured; a longer one is cut to this.
    max_retry_after: float = 60.0
    jitter: Callable[[float], float] = dataclasses.field(
        default=lambda ceiling: random.uniform(ceiling / 2, ceiling), repr=False
    )

    def delay(self, attempt: int, error: errors.KubeError) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if isinstance(error, errors.ApiError) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.jitter(ceiling)

    def should_retry(self, attempt: int, error: errors.KubeError, *, idempotent: bool) -> bool:
        """Whether to send the request again after ``attempt`` attempts failed with ``error``."""
        if attempt > self.max_retries or not error.retryable:
            return False
        if (
            isinstance(error, errors.ApiUnreachable)
            and not error.request_sent
            and attempt > self.max_unreachable_retries
        ):
            return False
        if idempotent:
            return True
        if isinstance(error, errors.TooManyRequests):
            return True
        return isinstance(error, errors.ApiUnreachable) and not error.request_sent


NO_RETRY = RetryPolicy(max_retries=0)
