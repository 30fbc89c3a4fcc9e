"""The storage layer's exceptions: every backend failure a caller can see.

Backends translate what their library or the operating system raises into these classes at
their boundary (``raise X(...) from exc``); nothing above ``storage`` catches ``OSError`` or
``botocore`` exceptions. Each class also derives from the :mod:`strongroom.errors` class that
carries its exit code::

    StorageError (StrongroomError, exit 1)
    ├── InvalidName (UsageError, 2)           a name or prefix that breaks the naming rules
    ├── StorageUsageError (UsageError, 2)     unknown provider, unknown or malformed config key
    ├── ObjectNotFound (NotFoundError, 5)
    ├── BucketNotFound (NotFoundError, 5)     the bucket (or folder) itself is missing
    ├── ObjectExists (AlreadyExistsError, 6)  a create-only put found the name taken
    ├── StoragePermissionDenied (PermissionDeniedError, 7)
    ├── ShortReadError (IntegrityError, 4)    fewer bytes than the requested range
    └── TransientStorageError (UnreachableError, 8)   retryable: 5xx, throttling, timeouts
        └── StorageUnreachable                the endpoint or folder did not answer at all

Only :class:`TransientStorageError` and its subclasses are retryable. Messages are one line,
name the object, bucket or endpoint concerned, and never contain credentials.
"""

from __future__ import annotations

from strongroom import errors


class StorageError(errors.StrongroomError):
    """Base of every storage failure; a bare instance is a permanent, unclassified failure."""


class InvalidName(StorageError, errors.UsageError):
    """A name or prefix that is not relative, clean and short enough (see ``names``)."""


class StorageUsageError(StorageError, errors.UsageError):
    """An unknown provider, an unknown config key, or a malformed config value."""


class ObjectNotFound(StorageError, errors.NotFoundError):
    """No object has this name."""


class BucketNotFound(StorageError, errors.NotFoundError):
    """The bucket (S3) or folder (filesystem) that holds the objects does not exist."""


class ObjectExists(StorageError, errors.AlreadyExistsError):
    """A create-only put found the name already taken; the stored object is unchanged."""


class StoragePermissionDenied(StorageError, errors.PermissionDeniedError):
    """Wrong or missing credentials, a refused operation, an unwritable folder."""


class ShortReadError(StorageError, errors.IntegrityError):
    """An object has fewer bytes than a read asked for: a range past its end, or a truncation."""


class TransientStorageError(StorageError, errors.UnreachableError):
    """A failure that may pass if the same call is repeated: 5xx, throttling, timeouts."""


class StorageUnreachable(TransientStorageError):
    """The endpoint refused or dropped the connection, or did not answer in time."""
