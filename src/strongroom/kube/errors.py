"""The errors of the Kubernetes access layer, rooted in :mod:`strongroom.errors`.

::

    KubeError (StrongroomError, exit 1)
    ├── KubeConfigError (ConfigError, exit 9)      kubeconfig / in-cluster config unusable
    ├── ApiError                                   the API server answered with an error Status
    │   ├── NotFound (NotFoundError, 5)            404
    │   ├── AlreadyExists (AlreadyExistsError, 6)  409 reason AlreadyExists
    │   ├── Conflict                               409 otherwise (stale resourceVersion, ...)
    │   ├── Invalid                                422
    │   ├── BadRequest                             400 (and other unclassified 4xx)
    │   ├── Gone                                   410 (expired continue token / resourceVersion)
    │   ├── Unauthorized (PermissionDeniedError, 7) 401
    │   ├── Forbidden (PermissionDeniedError, 7)   403
    │   ├── MethodNotAllowed                       405
    │   ├── TooManyRequests        retryable       429
    │   └── ServerError            retryable       5xx
    ├── ApiUnreachable (UnreachableError, 8)       refused, reset, timeout, DNS; retryable
    │   └── TLSError               not retryable   handshake or certificate verification failed
    ├── UnknownResource (NotFoundError, 5)         no served resource has that name
    ├── ConditionTimeout                           wait_for_condition gave up
    └── CredentialError (PermissionDeniedError, 7) an exec credential plugin failed

Only :mod:`strongroom.kube._transport` translates the client library's exceptions into this
tree. Messages are one line, name the object concerned and carry the API ``Status`` reason and
message trimmed to :data:`MAX_MESSAGE`; request and response bodies are never included.
"""

from __future__ import annotations

from strongroom import errors

#: Longest API message kept in an error (the rest is cut, never a body).
MAX_MESSAGE = 300


class KubeError(errors.StrongroomError):
    """Base of every error raised by :mod:`strongroom.kube`."""

    #: Whether repeating the same request later may succeed.
    retryable: bool = False


class KubeConfigError(KubeError, errors.ConfigError):
    """A kubeconfig or the in-cluster configuration cannot be used (names the file/context)."""


class CredentialError(KubeError, errors.PermissionDeniedError):
    """A credential plugin failed or produced no usable credential."""


class ApiUnreachable(KubeError, errors.UnreachableError):
    """The API server did not answer: refused, reset, timed out or unresolvable.

    ``request_sent`` is False when the connection was never established, so even a
    non-idempotent request can safely be sent again.
    """

    retryable = True
    request_sent: bool = True


class TLSError(ApiUnreachable):
    """The TLS handshake failed: an untrusted or mismatched certificate, a refused client
    certificate. Repeating the request does not help."""

    retryable = False


class UnknownResource(KubeError, errors.NotFoundError):
    """Discovery knows no resource by that name, short name or kind."""


class ConditionTimeout(KubeError):
    """An object did not reach the awaited condition in time."""


class ApiError(KubeError):
    """The API server answered with an error ``Status``.

    ``status`` is the HTTP code, ``reason`` the Status reason (``NotFound``, ``Conflict``...),
    ``api_message`` the Status message (trimmed) and ``retry_after`` the Retry-After seconds
    the server asked for, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        reason: str = "",
        api_message: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.api_message = api_message
        self.retry_after = retry_after


class NotFound(ApiError, errors.NotFoundError):
    """404: the object, namespace or resource type does not exist."""


class AlreadyExists(ApiError, errors.AlreadyExistsError):
    """409 AlreadyExists: an object with that name exists."""


class Conflict(ApiError):
    """409: the object changed since it was read (stale resourceVersion) or apply conflicts."""


class Invalid(ApiError):
    """422: the object failed validation."""


class BadRequest(ApiError):
    """400 or another client error the tree does not name."""


class Gone(ApiError):
    """410: a continue token or resourceVersion is too old; restart the list or watch."""


class MethodNotAllowed(ApiError):
    """405: the resource does not support this verb."""


class Unauthorized(ApiError, errors.PermissionDeniedError):
    """401: the credentials were refused."""


class Forbidden(ApiError, errors.PermissionDeniedError):
    """403: the credentials are valid but not allowed to do this."""


class TooManyRequests(ApiError):
    """429: the server is throttling; wait ``retry_after`` seconds."""

    retryable = True


class ServerError(ApiError):
    """5xx: the server failed; the request may succeed later."""

    retryable = True


def trim(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
}


def for_status(status: int, reason: str) -> type[ApiError]:
    """The class for an HTTP ``status`` and Status ``reason`` from the API server."""
    if status == 409:
        return AlreadyExists if reason == "AlreadyExists" else Conflict
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, BadRequest)
