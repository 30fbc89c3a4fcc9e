"""The root of every error Strongroom reports to a user, and the exit codes they map to.

Each layer keeps its own exception tree under :class:`StrongroomError` (``storage.errors``,
``kube.errors``, ...), translates the errors of the libraries it wraps at its boundary
(``raise X(...) from exc``) and never lets a third-party exception escape. The CLI prints
``str(error)`` as one line and exits with ``error.exit_code``.

Exit codes (also in README.md)::

    0  success
    1  failure (anything not covered below)
    2  usage: invalid flags or arguments
    3  partially failed: the run finished but some items failed
    4  integrity violation: something failed authentication or a digest check
    5  not found: an object, bucket, location, backup or Kubernetes resource
    6  already exists: a name that is taken
    7  permission denied: wrong credentials, a refused token, an unwritable folder
    8  unreachable: a server did not answer (S3 endpoint, API server, KMS)
    9  invalid configuration: a malformed config file or kubeconfig
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    PARTIALLY_FAILED = 3
    INTEGRITY = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    UNREACHABLE = 8
    INVALID_CONFIG = 9


class StrongroomError(Exception):
    """Base of all errors shown to a user: one line, no traceback unless ``-v``."""

    exit_code: ExitCode = ExitCode.FAILURE
    #: A bug or corruption rather than bad input: the CLI prints the stack with ``-v``.
    show_traceback: bool = False


class UsageError(StrongroomError):
    """Invalid flags, arguments or syntax in a value given on the command line."""

    exit_code = ExitCode.USAGE


class NotFoundError(StrongroomError):
    exit_code = ExitCode.NOT_FOUND


class AlreadyExistsError(StrongroomError):
    exit_code = ExitCode.ALREADY_EXISTS


class PermissionDeniedError(StrongroomError):
    exit_code = ExitCode.PERMISSION_DENIED


class UnreachableError(StrongroomError):
    exit_code = ExitCode.UNREACHABLE


class ConfigError(StrongroomError):
    exit_code = ExitCode.INVALID_CONFIG


class IntegrityError(StrongroomError):
    """Something read back failed authentication: never a subclass of NotFoundError."""

    exit_code = ExitCode.INTEGRITY
    show_traceback = True
