"""The restore engine's errors, rooted in :mod:`strongroom.errors`.

::

    RestoreError (StrongroomError, exit 1)
    ├── SpecError (UsageError, exit 2)             an invalid restore specification
    │   ├── MappingError                          a malformed or contradictory namespace mapping
    │   ├── SelectorError                         a label selector that does not parse
    │   └── NonRestorableError                    a never-restored resource explicitly included
    └── RestoreAborted                             the run stopped before it finished (fatal)

Per-item failures are not raised: they are recorded in the run's results (Velero's
"errors" per scope) and the run goes on. Integrity failures of the backup surface as the
repository's or the archive's own IntegrityError classes (exit 4), raised before the target
cluster is changed at all.
"""

from __future__ import annotations

from strongroom import errors
from strongroom.kube import errors as kube_errors

#: Kubernetes errors that mean the cluster cannot be worked with at all (not that one item
#: failed): they stop the run instead of being recorded against an item.
FATAL_KUBE_ERRORS: tuple[type[kube_errors.KubeError], ...] = (
    kube_errors.ApiUnreachable,
    kube_errors.Unauthorized,
    kube_errors.CredentialError,
)


class RestoreError(errors.StrongroomError):
    """Base of every error raised by :mod:`strongroom.engine.restore`."""


class SpecError(RestoreError, errors.UsageError):
    """A restore specification that cannot be run (names the field concerned)."""


class MappingError(SpecError):
    """``--namespace-mappings`` is malformed, maps one source twice or two sources to one."""


class SelectorError(SpecError):
    """A label selector that does not parse."""


class NonRestorableError(SpecError):
    """A resource Strongroom never restores (nodes, events, ...) was explicitly included."""


class RestoreAborted(RestoreError):
    """A fatal error stopped the run; the restore was recorded as Failed."""
