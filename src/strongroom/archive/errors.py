"""The errors of the archive layer, rooted in :mod:`strongroom.errors`.

::

    ArchiveError (StrongroomError, exit 1)
    ├── ItemNameError                           an object name that cannot be an archive path
    ├── DuplicateItemError                      the same path given twice to a writer
    └── ArchiveFormatError (IntegrityError, 4)  malformed archive or zstd content when reading
        ├── ArchiveLimitError                   more output, or a bigger entry, than allowed
        └── UnsupportedVersionError             metadata/version names a version not read here

Reading happens after the age layer has authenticated the bytes, so malformed content means a
bug or a hostile writer holding the backup key: an integrity error, with a traceback under
``-v``. Messages name the entry or offset concerned and never include entry contents.
"""

from __future__ import annotations

from strongroom import errors


class ArchiveError(errors.StrongroomError):
    """Base of every error raised by :mod:`strongroom.archive`."""


class ItemNameError(ArchiveError):
    """A group-resource, namespace or name that cannot be a path component of the archive."""


class DuplicateItemError(ArchiveError):
    """A writer was given two items with the same archive path."""


class ArchiveFormatError(ArchiveError, errors.IntegrityError):
    """Malformed compressed data or tar structure, or an entry the reader refuses."""


class ArchiveLimitError(ArchiveFormatError):
    """Decompressed output or an entry exceeds the limit the reader was given (a bomb)."""


class UnsupportedVersionError(ArchiveFormatError):
    """``metadata/version`` is missing, misplaced or names a version this reader cannot read."""
