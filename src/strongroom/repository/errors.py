"""The repository layer's errors, translated from storage and crypto at its boundary.

::

    RepositoryError
    ├── NoRepository            (not found: nothing at the location)
    ├── UnsupportedRepository   (a format or mandatory feature this client does not know)
    ├── Locked                  (permission denied: no keyslot opens with what was given)
    ├── BackupNotFound          (not found)
    │   └── BackupShredded      (its key object is gone: deleted, whatever data remains)
    ├── RestoreNotFound         (not found)
    ├── NameTaken               (already exists)
    ├── IncompleteBackup        (a claimed name without a manifest: in progress or crashed)
    ├── DeletedWhileWriting     (the backup was deleted while a run was writing it)
    └── IntegrityViolation      (integrity: an object failed its digest, MAC or binding)
"""

from __future__ import annotations

from strongroom import errors


class RepositoryError(errors.StrongroomError):
    pass


class NoRepository(RepositoryError, errors.NotFoundError):
    pass


class UnsupportedRepository(RepositoryError):
    pass


class Locked(RepositoryError, errors.PermissionDeniedError):
    pass


class BackupNotFound(RepositoryError, errors.NotFoundError):
    pass


class BackupShredded(BackupNotFound):
    pass


class RestoreNotFound(RepositoryError, errors.NotFoundError):
    pass


class NameTaken(RepositoryError, errors.AlreadyExistsError):
    pass


class IncompleteBackup(RepositoryError):
    pass


class DeletedWhileWriting(RepositoryError):
    """``backup delete`` began while this backup (or a restore of it) was being written."""


class IntegrityViolation(RepositoryError, errors.IntegrityError):
    """Names the object and the reason; never a subclass of a not-found error."""
